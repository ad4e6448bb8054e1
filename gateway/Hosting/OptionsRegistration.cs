using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Hosting;

public static class OptionsRegistration
{
    /// <summary>Binds every Mmss options section and validates it at start, so a bad setting stops the process with a clear message.</summary>
    public static IServiceCollection AddMmssOptions(this IServiceCollection services)
    {
        services.AddOptions<MmssOptions>().BindConfiguration(MmssOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<C2sOptions>().BindConfiguration(C2sOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TlsOptions>().BindConfiguration(TlsOptions.Section);
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section);
        services.AddOptions<ProvisioningOptions>().BindConfiguration(ProvisioningOptions.Section);
        return services;
    }
}
