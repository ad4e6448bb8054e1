// Attachments over HTTP (spec 7.4): uploaded before the MMS that names them, downloaded by file name.

export class UploadError extends Error {}

export async function upload({ userid, msgid, files }) {
  const form = new FormData();
  form.append("userid", userid);
  form.append("msgid", msgid);
  form.append("date", new Date().toISOString());
  // "attatchment-N": the spec's spelling on the wire.
  files.forEach((file, i) => form.append(`attatchment-${i}`, file, file.name));
  let response;
  try {
    response = await fetch("/attachment", { method: "POST", body: form, credentials: "same-origin" });
  } catch (e) {
    throw new UploadError(`upload failed: the server is unreachable (${e.message})`);
  }
  if (!response.ok) {
    const text = (await response.text()).trim();
    let reason = text;
    try {
      reason = JSON.parse(text).error ?? text;
    } catch {
      // not JSON: a proxy's page, shown as it is
    }
    throw new UploadError(`upload refused (${response.status}${reason ? ": " + reason : ""})`);
  }
}

export function downloadUrl({ userid, msgid, file }) {
  const query = new URLSearchParams({ userid, msgid, file });
  return `/attachment?${query}`;
}

export function isImageName(name) {
  return /\.(png|jpe?g|gif|webp|bmp)$/i.test(name);
}
