// A small JPEG thumbnail of an image, made in the browser, as the MMS body carries it (spec 7.5.1: base64).
const MAX_SIDE = 160;

export async function thumbnailBase64(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const dataUrl = canvas.toDataURL("image/jpeg", 0.7);
  return dataUrl.slice(dataUrl.indexOf(",") + 1);
}
