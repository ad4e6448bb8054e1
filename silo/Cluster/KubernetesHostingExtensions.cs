namespace Mmss.Silo.Cluster;

public static class KubernetesHostingExtensions
{
    /// <summary>Set by the kubelet in every container of a pod.</summary>
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>Set by the chart from the pod's metadata.name (the downward API); Orleans names the silo after it.</summary>
    public const string PodNameVariable = "POD_NAME";

    /// <summary>Whether this process runs in a Kubernetes pod that the chart configured for Orleans' Kubernetes hosting.</summary>
    public static bool IsKubernetesPod(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return !string.IsNullOrWhiteSpace(environment(ServiceHostVariable)) && !string.IsNullOrWhiteSpace(environment(PodNameVariable));
    }

    /// <summary>
    /// Orleans' Kubernetes hosting when the silo runs in a pod (<c>KUBERNETES_SERVICE_HOST</c> and <c>POD_NAME</c> set),
    /// nothing otherwise (a laptop, the tests, systemd). In a pod it names the silo after the pod, labels the pod with
    /// <c>orleans/serviceId</c> and <c>orleans/clusterId</c>, and declares a silo dead as soon as its pod is deleted,
    /// which needs the pod's service account to get, list, watch, patch and delete pods in its namespace (the chart's
    /// Role). It reads <c>POD_NAMESPACE</c> (else the service account's namespace file), <c>POD_IP</c> (the advertised
    /// address, unless <c>Mmss:Orleans:AdvertisedAddress</c> already set one), and <c>ORLEANS_SERVICE_ID</c> /
    /// <c>ORLEANS_CLUSTER_ID</c>, which, when set, override <c>Mmss:Cluster:ServiceId</c> / <c>ClusterId</c>: the chart
    /// sets both pairs to the same values. Membership itself stays in PostgreSQL.
    /// </summary>
    public static ISiloBuilder UseMmssKubernetesHostingIfPresent(this ISiloBuilder silo) =>
        IsKubernetesPod() ? silo.UseKubernetesHosting() : silo;
}
