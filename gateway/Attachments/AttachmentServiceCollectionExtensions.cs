using Microsoft.Extensions.Options;

namespace Mmss.Gateway.Attachments;

public static class AttachmentServiceCollectionExtensions
{
    public static IServiceCollection AddAttachments(this IServiceCollection services, string dataDirectory)
    {
        services.AddOptions<AttachmentOptions>().BindConfiguration(AttachmentOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IAttachmentStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AttachmentOptions>>().Value;
            return options.Store == "S3"
                ? ActivatorUtilities.CreateInstance<S3AttachmentStore>(sp)
                : new LocalAttachmentStore(string.IsNullOrWhiteSpace(options.Directory) ? Path.Combine(dataDirectory, "attachments") : options.Directory);
        });
        services.AddSingleton<AttachmentAccessCheck>();
        services.AddSingleton<UploadQuota>();
        services.AddHostedService<AttachmentPruner>();
        return services;
    }
}
