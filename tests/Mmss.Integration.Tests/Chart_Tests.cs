using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using Mmss.Tests.Infrastructure;
using Orleans.Hosting.Kubernetes;

namespace Mmss.Integration.Tests;

/// <summary>
/// The Helm chart (charts/mmss) and the container images (silo/Dockerfile, gateway/Dockerfile): the chart lints and
/// renders with every value set of charts/mmss/ci and the defaults, every rendered manifest validates against the
/// Kubernetes API schemas (tests/chart/validate.mjs), wrong values fail, both executables publish as the Dockerfiles
/// publish them, and the chart agrees with the code: every Mmss__* variable it sets is one the executables read, and
/// the published executables, started with the rendered environment as a kubelet would set it (PostgreSQL and S3 on
/// loopback), migrate, start, listen on exactly the ports the chart exposes, serve, and stop within the grace periods.
/// Needs helm and the validator's node modules (tests/run.sh installs both).
/// </summary>
public sealed class Chart_Tests(ChartFixture fixture) : IClassFixture<ChartFixture>
{
    public static TheoryData<string> ValueSets => new(ChartFixture.ValueSetNames);

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Chart_lints_renders_and_validates_with_the_value_set(string valueSet)
    {
        var files = fixture.ValuesFiles(valueSet);
        var lint = await Tool.RunAsync(ChartFixture.Helm, ["lint", "--strict", fixture.ChartDirectory, .. files.SelectMany(f => new[] { "-f", f })]);
        Assert.True(lint.ExitCode == 0, $"helm lint failed:\n{lint.Output}");
        var manifests = await fixture.RenderAsync(valueSet);
        ChartPromises.Check(manifests, valueSet == "trial");
        foreach (var workload in manifests.Workloads)
        {
            var executable = workload.Component switch
            {
                "silo" or "migrate" => ConfigurationKeys.Silo,
                "gateway" => ConfigurationKeys.Gateway,
                _ => null,
            };
            if (executable is null) continue;
            foreach (var container in workload.AllContainers)
            {
                foreach (var name in manifests.EnvironmentNames(container).Where(n => n.StartsWith("Mmss__", StringComparison.Ordinal)))
                {
                    Assert.True(executable.Reads(name), $"{workload.Name}/{container["name"]}: {name} is set by the chart but read by no option or setting of the {workload.Component} executable");
                }
            }
        }
    }

    [Fact]
    public async Task Events_values_point_the_silos_at_the_broker_with_the_password_from_its_secret()
    {
        var manifests = await fixture.RenderAsync("events");
        Assert.Equal(("true", "mosquitto.monitoring.svc:1883", "mmss", "203.0.113.10", "50000"),
            (manifests.ConfigMapValue("silo", "Mmss__Mqtt__Enabled"), manifests.ConfigMapValue("silo", "Mmss__Mqtt__Server"),
             manifests.ConfigMapValue("silo", "Mmss__Mqtt__Username"), manifests.ConfigMapValue("silo", "Mmss__Mqtt__Domain"),
             manifests.ConfigMapValue("silo", "Mmss__Mqtt__QueueCapacity")));
        var password = Manifests.Env(manifests.Workload("silo").Containers.Single(), "Mmss__Mqtt__Password")!["valueFrom"]!["secretKeyRef"]!;
        Assert.Equal(("mmss-mqtt", "mqtt-password"), ((string?)password["name"], (string?)password["key"]));
        // Gateways publish nothing themselves (their facts reach the silos' feed through a grain).
        Assert.DoesNotContain(manifests.EnvironmentNames(manifests.Workload("gateway").Containers.Single()), n => n.StartsWith("Mmss__Mqtt__", StringComparison.Ordinal));
        Assert.Equal("9100", manifests.ConfigMapValue("gateway", "Mmss__Metrics__Port"));
    }

    [Theory]
    [InlineData("gateway.service.type=Ingress", "/gateway/service/type")]
    [InlineData("gateway.service.externalTrafficPolicy=Nearest", "/gateway/service/externalTrafficPolicy")]
    [InlineData("mailbox.ttlSeconds=0", "/mailbox/ttlSeconds")]
    [InlineData("mailbox.gatewayExpirySeconds=2", "/mailbox/gatewayExpirySeconds")]
    [InlineData("attachments.store=Ftp", "/attachments/store")]
    [InlineData("attachments.accessPolicy=Anyone", "/attachments/accessPolicy")]
    [InlineData("gateway.ports.http=70000", "/gateway/ports/http")]
    [InlineData("silo.replicaCount=0", "/silo/replicaCount")]
    [InlineData("gateway.readinesProbe.periodSeconds=3", "additional properties 'readinesProbe'")]
    [InlineData("containerSecurityContext.allowPrivilegeEscalation=true", "/containerSecurityContext/allowPrivilegeEscalation")]
    [InlineData("podSecurityContext.runAsNonRoot=false", "/podSecurityContext/runAsNonRoot")]
    [InlineData("silo.resources.limits=null", "/silo/resources")]
    [InlineData("cluster.clusterId=not a label", "/cluster/clusterId")]
    [InlineData("domains[0]=bad domain", "/domains/0")]
    [InlineData("attachments.s3.endpoint=https://s3.example:9000", "/attachments/s3/endpoint")]
    [InlineData("attachments.store=Local", "attachments.local.existingClaim")]
    [InlineData("gateway.ports.http=5222", "gateway.ports must be three different ports")]
    [InlineData("gateway.terminationGracePeriodSeconds=35", "gateway.terminationGracePeriodSeconds must be at least")]
    [InlineData("trial.postgresql.enabled=true,postgresql.connectionString=Host=x", "exclude each other")]
    [InlineData("metrics.gatewayPort=8080", "metrics.gatewayPort must differ from gateway.ports")]
    [InlineData("mqtt.enabled=true", "mqtt.enabled needs mqtt.server")]
    [InlineData("mqtt.queueCapacity=0", "/mqtt/queueCapacity")]
    [InlineData("relay.peers[0].domain=198.51.100.8,relay.peers[0].secret=s", "relay.peers need relay.enabled")]
    [InlineData("relay.enabled=true,relay.peers[0].domain=198.51.100.8", "relay.peers[0] (198.51.100.8) needs a secret")]
    [InlineData("relay.enabled=true,relay.port=8080", "relay.port must differ from gateway.ports")]
    [InlineData("relay.enabled=true,relay.peers[0].domain=198.51.100.8,relay.peers[0].udns=2000-x", "/relay/peers/0/udns")]
    [InlineData("relay.enabled=true,relay.peers[0].udns=2000", "/relay/peers/0")]
    [InlineData("relay.enabled=true,relay.peers[0].domain=198.51.100.8,relay.peers[0].httpAddress=198.51.100.8:8080", "/relay/peers/0/httpAddress")]
    public async Task A_wrong_value_fails_before_anything_is_installed(string set, string expected)
    {
        var result = await Tool.RunAsync(ChartFixture.Helm, ["template", "mmss", fixture.ChartDirectory, "--set", set]);
        Assert.True(result.ExitCode != 0, $"helm template accepted --set {set}");
        Assert.Contains(expected, result.Output);
    }

    [Fact]
    public async Task Both_executables_publish_as_the_dockerfiles_build_them_into_official_non_root_images()
    {
        foreach (var image in new[] { await fixture.SiloImageAsync(), await fixture.GatewayImageAsync() })
        {
            Assert.Matches("^mcr\\.microsoft\\.com/dotnet/(aspnet|runtime|runtime-deps):", image.Dockerfile.FinalBase);
            Assert.True(image.Dockerfile.User is { Length: > 0 } user && user != "root" && user != "0", $"{image.Name}: the image must end as a non-root user");
            Assert.Equal("dotnet", image.Dockerfile.Entrypoint[0]);
            Assert.Equal(2, image.Dockerfile.Entrypoint.Length);
            // The final stage holds the published output only.
            Assert.All(image.Dockerfile.FinalCopies, copy => Assert.StartsWith("--from=build /app", copy));
            var dll = Path.Combine(image.PublishDirectory, image.Dockerfile.Entrypoint[1]);
            Assert.True(File.Exists(dll), $"{image.Name}: the entry point {image.Dockerfile.Entrypoint[1]} is not in the published output");
            Assert.True(File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"{image.Name}: no runtimeconfig beside the entry point");
        }
        var defaults = await fixture.RenderAsync("defaults");
        var silo = await fixture.SiloImageAsync();
        var gateway = await fixture.GatewayImageAsync();
        Assert.Equal(defaults.ContainerPorts("silo").Order(), silo.Dockerfile.Expose.Order());
        Assert.Equal(defaults.ContainerPorts("gateway").Order(), gateway.Dockerfile.Expose.Order());
        // The chart runs the images' entry points: no command of its own, only arguments.
        foreach (var workload in defaults.Workloads.Where(w => w.Component is "silo" or "gateway" or "migrate"))
        {
            foreach (var container in workload.AllContainers) Assert.Null(container["command"]);
        }
    }

    [Fact]
    public async Task Executables_started_with_the_rendered_environment_migrate_serve_on_the_chart_ports_and_stop_in_time()
    {
        var silo = await fixture.SiloImageAsync();
        var gateway = await fixture.GatewayImageAsync();
        var postgres = await PostgresServer.SharedAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var connectionString = await postgres.CreateDatabaseAsync("mmss_chart_" + id);
        await using var s3 = new S3Server();
        await s3.StartAsync();
        var ports = FreePorts.Take(8);
        var values = new JsonObject
        {
            ["domains"] = new JsonArray("127.0.0.1", "localhost"),
            ["cluster"] = new JsonObject { ["clusterId"] = "chart-" + id, ["serviceId"] = "chart-" + id },
            ["postgresql"] = new JsonObject { ["connectionString"] = connectionString },
            ["admin"] = new JsonObject { ["token"] = "chart-admin-" + id },
            ["attachments"] = new JsonObject
            {
                ["store"] = "S3",
                ["s3"] = new JsonObject
                {
                    ["endpoint"] = s3.Endpoint, ["bucket"] = "mmss-chart-" + id, ["accessKey"] = S3Server.AccessKey, ["secretKey"] = S3Server.SecretKey,
                },
            },
            ["mailbox"] = new JsonObject { ["gatewayExpirySeconds"] = 6 },
            ["metrics"] = new JsonObject { ["gatewayPort"] = ports[6] },
            ["silo"] = new JsonObject
            {
                ["replicaCount"] = 1,
                ["ports"] = new JsonObject { ["silo"] = ports[0], ["gateway"] = ports[1], ["health"] = ports[2] },
            },
            ["gateway"] = new JsonObject
            {
                ["replicaCount"] = 1,
                ["autoscaling"] = new JsonObject { ["enabled"] = false },
                ["ports"] = new JsonObject { ["xmpp"] = ports[3], ["xmppTls"] = ports[4], ["http"] = ports[5] },
                ["drainDelaySeconds"] = 3,
            },
            // A peer in the configuration, its secret from the chart's Secret; the listener on a port of its own.
            ["relay"] = new JsonObject
            {
                ["enabled"] = true,
                ["port"] = ports[7],
                ["peers"] = new JsonArray(new JsonObject
                {
                    ["domain"] = "127.0.0.9", ["address"] = "127.0.0.9:5269", ["udns"] = "3000-3999", ["secret"] = "chart-peer-secret-" + id,
                }),
            },
        };
        var manifests = await fixture.RenderAsync(values);
        await using var pods = new LocalPods(manifests, fixture.Root);

        // The schema migration Job: the silo image's entry point with the Job's arguments.
        var job = manifests.Workload("migrate");
        Assert.Equal("pre-install,pre-upgrade", job.Annotation("helm.sh/hook"));
        var migration = pods.Start(job, job.Containers.Single(), silo);
        Assert.Equal(0, await migration.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("Schema", migration.Output);

        // The silo pod: its init container, then the silo until its readiness probe passes.
        var siloWorkload = manifests.Workload("silo");
        foreach (var init in siloWorkload.InitContainers)
        {
            var run = pods.Start(siloWorkload, init, silo);
            Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        }
        var siloContainer = siloWorkload.Containers.Single();
        var siloProcess = pods.Start(siloWorkload, siloContainer, silo);
        await siloProcess.WaitForProbesAsync(siloContainer, TimeSpan.FromSeconds(120));
        await AssertListensOnDeclaredPortsAsync(siloProcess, siloContainer);

        var gatewayWorkload = manifests.Workload("gateway");
        var gatewayContainer = gatewayWorkload.Containers.Single();
        var gatewayProcess = pods.Start(gatewayWorkload, gatewayContainer, gateway);
        await gatewayProcess.WaitForProbesAsync(gatewayContainer, TimeSpan.FromSeconds(120));
        await AssertListensOnDeclaredPortsAsync(gatewayProcess, gatewayContainer);

        // The Service forwards only to ports the gateway listens on.
        var service = manifests.Single("Service", "gateway");
        foreach (var port in service.Node["spec"]!["ports"]!.AsArray())
        {
            var target = Manifests.ResolvePort(gatewayContainer, port!["targetPort"]!);
            await AssertConnectsAsync(target, $"Service port {port["name"]}", gatewayProcess);
        }

        // It serves: the admin token, the domain, the certificate and the S3 store are the chart's.
        var domain = manifests.ConfigMapValue("gateway", "Mmss__Domains__0");
        var token = manifests.SecretValue(gatewayContainer, "Mmss__Admin__Token");
        Assert.Equal("chart-admin-" + id, token);
        var http = Manifests.ResolvePort(gatewayContainer, JsonValue.Create("http"));
        using (var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/"), Timeout = TimeSpan.FromSeconds(30) })
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var created = await admin.PutAsync("admin/users/7701", new StringContent("""{"password":"pw","name":"Chart"}""", Encoding.UTF8, "application/json"));
            Assert.True(created.IsSuccessStatusCode, $"admin API: {created.StatusCode}\n{gatewayProcess.Output}");
            // The configured peer is in the table the gateway routes by.
            var peer = JsonNode.Parse(await admin.GetStringAsync("admin/peers/127.0.0.9"))!;
            Assert.Equal("3000-3999", (string?)peer["udns"]);
            Assert.Equal("configuration", (string?)peer["source"]);
        }
        var xmpp = Manifests.ResolvePort(gatewayContainer, JsonValue.Create("xmpp"));
        var xmppTls = Manifests.ResolvePort(gatewayContainer, JsonValue.Create("xmpp-tls"));
        await using (var client = await XmppClient.LoginAsync("127.0.0.1", xmpp, domain, EmbeddedServer.Mechanism("SCRAM-SHA-1", "7701", "pw"), "starttls"))
        {
            Assert.True(client.IsSecure);
            Assert.Equal($"7701@{domain}/starttls", client.BoundJid);
        }
        await using (var client = await XmppClient.LoginAsync("127.0.0.1", xmppTls, domain, EmbeddedServer.Mechanism("SCRAM-SHA-256", "7701", "pw"), "tls", directTls: true))
        {
            Assert.Equal($"7701@{domain}/tls", client.BoundJid);
        }
        var certificate = await PresentedCertificateAsync(xmppTls);
        var mounted = X509Certificate2.CreateFromPem(manifests.SecretFile(gatewayWorkload, "/etc/mmss/tls", "tls.crt"));
        Assert.Equal(mounted.Thumbprint, certificate.Thumbprint);
        Assert.Contains(domain, certificate.GetNameInfo(X509NameType.SimpleName, false) + " " + SubjectAlternativeNames(certificate));

        var content = RandomNumberGenerator.GetBytes(200_000);
        using (var upload = SpecMultipart.Request(http, SpecMultipart.Body("7701", "chart-1", ("photo.jpg", content))))
        using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) })
        {
            var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("7701:pw")));
            upload.Headers.Authorization = basic;
            var uploaded = await client.SendAsync(upload);
            Assert.True(uploaded.StatusCode == HttpStatusCode.OK, $"upload: {uploaded.StatusCode} {await uploaded.Content.ReadAsStringAsync()}\n{gatewayProcess.Output}");
            using var download = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{http}/attachment?userid=7701&msgid=chart-1&file=photo.jpg");
            download.Headers.Authorization = basic;
            var downloaded = await client.SendAsync(download);
            Assert.Equal(HttpStatusCode.OK, downloaded.StatusCode);
            Assert.Equal(content, await downloaded.Content.ReadAsByteArrayAsync());
        }
        Assert.True(Directory.EnumerateFiles(s3.Directory, "*", SearchOption.AllDirectories).Any(), "the attachment did not reach the S3 store");

        // Metrics where the pods' scrape annotations point, and not on the gateway's public HTTP port.
        foreach (var (workload, container) in new[] { (gatewayWorkload, gatewayContainer), (siloWorkload, siloContainer) })
        {
            var annotations = workload.Node["spec"]!["template"]!["metadata"]!["annotations"]!;
            Assert.Equal(("true", "/metrics"), ((string?)annotations["prometheus.io/scrape"], (string?)annotations["prometheus.io/path"]));
            var port = int.Parse((string)annotations["prometheus.io/port"]!);
            Assert.Contains(container["ports"]!.AsArray(), p => p!["containerPort"]!.GetValue<int>() == port);
            var scrape = await PrometheusScrape.GetAsync($"http://127.0.0.1:{port}/metrics");
            Assert.True(scrape.Has("orleans_"), $"{workload.Component}: no Orleans meter at :{port}/metrics");
        }
        var gatewayScrape = await PrometheusScrape.GetAsync($"http://127.0.0.1:{ports[6]}/metrics");
        Assert.Equal(2, gatewayScrape.Value("mmss_gateway_logins_total"));
        Assert.Equal(200_000, gatewayScrape.Value("mmss_gateway_attachment_uploaded_bytes_total"));
        using (var client = new HttpClient())
        {
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"http://127.0.0.1:{http}/metrics")).StatusCode);
        }

        // A stop: readiness goes false at once, the streams stay open for the drain delay, and the process is gone
        // within the pod's grace period.
        var drain = int.Parse(manifests.ConfigMapValue("gateway", "Mmss__Shutdown__DrainDelaySeconds"));
        var grace = gatewayWorkload.PodSpec["terminationGracePeriodSeconds"]!.GetValue<int>();
        await using (var terminal = await XmppClient.LoginAsync("127.0.0.1", xmpp, domain, EmbeddedServer.Mechanism("SCRAM-SHA-1", "7701", "pw"), "drain"))
        {
            var clock = Stopwatch.StartNew();
            gatewayProcess.Terminate();
            var closing = terminal.ReadAsync(TimeSpan.FromSeconds(grace));
            await gatewayProcess.WaitUntilNotReadyAsync(gatewayContainer, TimeSpan.FromSeconds(5));
            var error = await closing;
            var closedAfter = clock.Elapsed;
            Assert.NotNull(error?.Element("system-shutdown", Namespaces.StreamErrors));
            Assert.True(closedAfter >= TimeSpan.FromSeconds(drain - 0.5), $"the stream was closed after {closedAfter.TotalSeconds:F1}s, before the {drain}s drain");
            Assert.True(await gatewayProcess.WaitForExitAsync(TimeSpan.FromSeconds(grace) - clock.Elapsed) is 0 or 143, gatewayProcess.Output);
        }
        var siloGrace = siloWorkload.PodSpec["terminationGracePeriodSeconds"]!.GetValue<int>();
        siloProcess.Terminate();
        Assert.True(await siloProcess.WaitForExitAsync(TimeSpan.FromSeconds(siloGrace)) is 0 or 143, siloProcess.Output);
    }

    [Theory]
    [InlineData("10.96.0.1", "mmss-silo-7d9f-x2x", true)]
    [InlineData(null, "mmss-silo-7d9f-x2x", false)]
    [InlineData("10.96.0.1", null, false)]
    [InlineData("10.96.0.1", " ", false)]
    public void Silo_uses_kubernetes_hosting_only_in_a_pod_the_chart_configured(string? serviceHost, string? podName, bool expected)
    {
        var environment = new Dictionary<string, string?>
        {
            [Mmss.Silo.Cluster.KubernetesHostingExtensions.ServiceHostVariable] = serviceHost,
            [Mmss.Silo.Cluster.KubernetesHostingExtensions.PodNameVariable] = podName,
        };
        Assert.Equal(expected, Mmss.Silo.Cluster.KubernetesHostingExtensions.IsKubernetesPod(name => environment.GetValueOrDefault(name)));
        // The kubelet sets KUBERNETES_SERVICE_HOST in every container; the chart sets the pod name, under the name
        // Orleans' Kubernetes hosting reads.
        Assert.Equal(KubernetesHostingOptions.PodNameEnvironmentVariable, Mmss.Silo.Cluster.KubernetesHostingExtensions.PodNameVariable);
    }

    [Fact]
    public void Chart_readme_lists_every_value()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.ChartDirectory, "values.schema.json")))!;
        var readme = File.ReadAllText(Path.Combine(fixture.ChartDirectory, "README.md"));
        var missing = ValuePaths(schema, "").Where(path => !readme.Contains($"`{path}`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "charts/mmss/README.md does not list: " + string.Join(", ", missing));

        // Objects documented as a whole rather than field by field.
        static IEnumerable<string> ValuePaths(JsonNode node, string prefix)
        {
            var leafObjects = new[] { "resources", "podSecurityContext", "containerSecurityContext" };
            if (node["properties"] is JsonObject properties && node["additionalProperties"]?.GetValueKind() == JsonValueKind.False
                && !leafObjects.Any(o => prefix.EndsWith(o, StringComparison.Ordinal)))
            {
                foreach (var (name, child) in properties)
                {
                    if (prefix.Length == 0 && name == "global") continue;
                    foreach (var path in ValuePaths(child!, prefix.Length == 0 ? name : prefix + "." + name)) yield return path;
                }
            }
            else
            {
                yield return prefix;
            }
        }
    }

    [Fact]
    public async Task Migration_job_fails_at_once_on_a_missing_database_setting_as_its_pod_failure_policy_expects()
    {
        var silo = await fixture.SiloImageAsync();
        var manifests = await fixture.RenderAsync("defaults");
        var job = manifests.Workload("migrate");
        var failJob = job.Node["spec"]!["podFailurePolicy"]!["rules"]!.AsArray()
            .Single(r => (string?)r!["action"] == "FailJob")!["onExitCodes"]!["values"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        await using var pods = new LocalPods(manifests, fixture.Root);
        var run = pods.Start(job, job.Containers.Single(), silo);
        var exitCode = await run.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains(exitCode, failJob);
        Assert.Contains("Mmss:Cluster:ConnectionString", run.Output);
    }

    private static async Task AssertListensOnDeclaredPortsAsync(LocalProcess process, JsonObject container)
    {
        foreach (var port in container["ports"]!.AsArray())
        {
            await AssertConnectsAsync(port!["containerPort"]!.GetValue<int>(), $"containerPort {port["name"]}", process);
        }
    }

    private static async Task AssertConnectsAsync(int port, string what, LocalProcess process)
    {
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            Assert.Fail($"{process.Name}: nothing listens on {what} ({port}): {e.Message}\n{process.Output}");
        }
    }

    private static async Task<X509Certificate2> PresentedCertificateAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : new X509Certificate2(certificate);
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" });
        return presented ?? throw new InvalidOperationException("no certificate presented");
    }

    private static string SubjectAlternativeNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(san => san.EnumerateIPAddresses().Select(ip => ip.ToString()).Concat(san.EnumerateDnsNames()))
            .Aggregate("", (all, name) => all + " " + name);
}

/// <summary>What the chart promises in every value set (the issue's list), checked on the rendered manifests.</summary>
internal static class ChartPromises
{
    public static void Check(Manifests manifests, bool trial)
    {
        var siloWorkload = manifests.Workload("silo");
        var gatewayWorkload = manifests.Workload("gateway");
        var job = manifests.Workload("migrate");
        var silo = siloWorkload.Containers.Single();
        var siloEnvironment = manifests.EnvironmentNames(silo).ToHashSet();

        // Silos: Orleans' Kubernetes hosting — pod labels, the environment it reads, the API rights it needs.
        var labels = siloWorkload.PodLabels;
        var serviceId = manifests.ConfigMapValue("silo", "Mmss__Cluster__ServiceId");
        var clusterId = manifests.ConfigMapValue("silo", "Mmss__Cluster__ClusterId");
        Assert.Equal(serviceId, labels[KubernetesHostingOptions.ServiceIdLabel]);
        Assert.Equal(clusterId, labels[KubernetesHostingOptions.ClusterIdLabel]);
        Assert.Equal(serviceId, manifests.ConfigMapValue("gateway", "Mmss__Cluster__ServiceId"));
        Assert.Equal(clusterId, manifests.ConfigMapValue("gateway", "Mmss__Cluster__ClusterId"));
        Assert.Equal("metadata.name", FieldPath(silo, KubernetesHostingOptions.PodNameEnvironmentVariable));
        Assert.Equal("metadata.namespace", FieldPath(silo, KubernetesHostingOptions.PodNamespaceEnvironmentVariable));
        Assert.Equal("status.podIP", FieldPath(silo, KubernetesHostingOptions.PodIPEnvironmentVariable));
        Assert.Equal("status.podIP", FieldPath(silo, "Mmss__Orleans__AdvertisedAddress"));
        Assert.Equal(serviceId, Value(silo, KubernetesHostingOptions.ServiceIdEnvironmentVariable));
        Assert.Equal(clusterId, Value(silo, KubernetesHostingOptions.ClusterIdEnvironmentVariable));
        Assert.Contains("Mmss__Cluster__ConnectionString", siloEnvironment);
        Assert.True(siloWorkload.PodSpec["automountServiceAccountToken"]?.GetValue<bool>() ?? true, "the silo needs its API token");
        var account = (string?)siloWorkload.PodSpec["serviceAccountName"];
        Assert.False(string.IsNullOrEmpty(account));
        var binding = manifests.All("RoleBinding").FirstOrDefault(b => b.Node["subjects"]!.AsArray().Any(s => (string?)s!["name"] == account));
        if (binding is not null)
        {
            var role = manifests.All("Role").Single(r => r.Name == (string?)binding.Node["roleRef"]!["name"]);
            var rule = role.Node["rules"]!.AsArray().Single(r => r!["resources"]!.AsArray().Any(x => (string?)x == "pods"))!;
            var verbs = rule["verbs"]!.AsArray().Select(v => (string)v!).ToHashSet();
            Assert.Superset(new HashSet<string> { "get", "list", "watch", "delete", "patch" }, verbs);
        }
        Assert.Equal(
            new[] { manifests.ConfigMapValue("silo", "Mmss__Orleans__SiloPort"), manifests.ConfigMapValue("silo", "Mmss__Orleans__GatewayPort"), manifests.ConfigMapValue("silo", "Mmss__Health__Port") }.Select(int.Parse).Order(),
            manifests.ContainerPorts("silo").Order());
        Assert.True(siloWorkload.PodSpec["terminationGracePeriodSeconds"]!.GetValue<int>() >= 70, "a silo needs its 60 s to hand its grains over");
        AssertProbes(silo, "health");

        // Gateways: Service, autoscaler, probes, drain.
        var gateway = gatewayWorkload.Containers.Single();
        var gatewayEnvironment = manifests.EnvironmentNames(gateway).ToHashSet();
        foreach (var name in new[] { "Mmss__Cluster__ConnectionString", "Mmss__Admin__Token", "Mmss__Tls__CertificatePath", "Mmss__Tls__KeyPath", "Mmss__DataDir", "Mmss__Shutdown__DrainDelaySeconds" })
        {
            Assert.Contains(name, gatewayEnvironment);
        }
        var s2sPort = (string?)manifests.Single("ConfigMap", "gateway").Node["data"]?["Mmss__S2s__Port"];
        var publicPorts = new[] { manifests.ConfigMapValue("gateway", "Mmss__C2s__Port"), manifests.ConfigMapValue("gateway", "Mmss__C2s__TlsPort"), manifests.ConfigMapValue("gateway", "Mmss__Http__Port"), s2sPort }
            .OfType<string>().Select(int.Parse).ToArray();
        // The metrics port is the pod's, for scraping on the pod network; the Service never leads to it.
        var metricsPort = manifests.ConfigMapValue("gateway", "Mmss__Metrics__Enabled") == "true" ? new[] { int.Parse(manifests.ConfigMapValue("gateway", "Mmss__Metrics__Port")) } : [];
        Assert.Equal(publicPorts.Concat(metricsPort).Order(), manifests.ContainerPorts("gateway").Order());
        var service = manifests.Single("Service", "gateway");
        var serviceSpec = service.Node["spec"]!;
        var targets = serviceSpec["ports"]!.AsArray().Select(p => Manifests.ResolvePort(gateway, p!["targetPort"]!)).Order();
        Assert.Equal(publicPorts.Order(), targets);
        if ((string?)serviceSpec["type"] is "LoadBalancer" or "NodePort") Assert.NotNull(serviceSpec["externalTrafficPolicy"]);
        var drain = int.Parse(manifests.ConfigMapValue("gateway", "Mmss__Shutdown__DrainDelaySeconds"));
        Assert.True(gatewayWorkload.PodSpec["terminationGracePeriodSeconds"]!.GetValue<int>() >= drain + 30, "the grace period must cover the drain delay and the gateway's stop");
        AssertProbes(gateway, "http");
        CheckRelay(manifests, gateway, silo, s2sPort);
        var hpa = manifests.All("HorizontalPodAutoscaler").SingleOrDefault();
        if (hpa is not null) Assert.Null(gatewayWorkload.Node["spec"]!["replicas"]);
        foreach (var pdb in manifests.All("PodDisruptionBudget"))
        {
            Assert.Contains(pdb.Component, new[] { "silo", "gateway" });
        }

        // The migration hook runs the silo image's `migrate` before the silos (pre-install; post-install when the
        // bundled PostgreSQL must exist first) and before every upgrade.
        Assert.Equal(trial ? "post-install,pre-upgrade" : "pre-install,pre-upgrade", job.Annotation("helm.sh/hook"));
        var migrate = job.Containers.Single();
        Assert.Equal(["migrate"], migrate["args"]!.AsArray().Select(a => (string)a!));
        Assert.Equal((string?)silo["image"], (string?)migrate["image"]);
        Assert.Contains("Mmss__Cluster__ConnectionString", manifests.EnvironmentNames(migrate));
        foreach (var secret in manifests.SecretsReferencedBy(migrate))
        {
            // A pre-install hook runs before the release's own resources exist: it may use only hook resources or
            // Secrets the operator made.
            if (!trial && manifests.Find("Secret", secret) is { } own) Assert.NotNull(own.Annotation("helm.sh/hook"));
        }
    }

    /// <summary>
    /// The relay (values relay.*): peers reach the server-to-server listener through the Service; every pod has the same
    /// configured peers; the gateways, which present and check them, alone get the dialback key and the peers' secrets,
    /// and only from Secrets.
    /// </summary>
    private static void CheckRelay(Manifests manifests, JsonObject gateway, JsonObject silo, string? s2sPort)
    {
        var gatewayData = manifests.Single("ConfigMap", "gateway").Node["data"]!.AsObject();
        var siloData = manifests.Single("ConfigMap", "silo").Node["data"]!.AsObject();
        var servicePorts = manifests.Single("Service", "gateway").Node["spec"]!["ports"]!.AsArray();
        var s2sServicePort = servicePorts.SingleOrDefault(p => (string?)p!["name"] == "xmpp-s2s");
        if (s2sPort is null)
        {
            Assert.Null(s2sServicePort);
            Assert.DoesNotContain(gatewayData, p => p.Key.StartsWith("Mmss__Peers__", StringComparison.Ordinal));
            return;
        }
        Assert.Equal("true", (string?)gatewayData["Mmss__S2s__Enabled"]);
        Assert.Equal(int.Parse(s2sPort), Manifests.ResolvePort(gateway, s2sServicePort!["targetPort"]!));
        Assert.NotNull(Manifests.Env(gateway, "Mmss__S2s__DialbackSecret")?["valueFrom"]?["secretKeyRef"]);
        var peerKeys = gatewayData.Select(p => p.Key).Where(k => k.StartsWith("Mmss__Peers__", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(peerKeys, siloData.Select(p => p.Key).Where(k => k.StartsWith("Mmss__Peers__", StringComparison.Ordinal)).Order());
        Assert.All(peerKeys, key => Assert.Equal((string?)gatewayData[key], (string?)siloData[key]));
        foreach (var domainKey in peerKeys.Where(k => k.EndsWith("__Domain", StringComparison.Ordinal)))
        {
            var secretName = domainKey.Replace("__Domain", "__Secret");
            Assert.NotNull(Manifests.Env(gateway, secretName)?["valueFrom"]?["secretKeyRef"]);
            Assert.Null(Manifests.Env(silo, secretName));
        }
        Assert.DoesNotContain(gatewayData, p => p.Key.EndsWith("Secret", StringComparison.Ordinal));
        Assert.Null(Manifests.Env(silo, "Mmss__S2s__DialbackSecret"));
    }

    private static void AssertProbes(JsonObject container, string port)
    {
        Assert.Equal("/health/ready", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/live", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal(port, (string?)container["readinessProbe"]!["httpGet"]!["port"]);
        Assert.Equal(port, (string?)container["livenessProbe"]!["httpGet"]!["port"]);
    }

    private static string? FieldPath(JsonObject container, string name) =>
        (string?)Manifests.Env(container, name)?["valueFrom"]?["fieldRef"]?["fieldPath"];

    private static string? Value(JsonObject container, string name) => (string?)Manifests.Env(container, name)?["value"];
}

/// <summary>
/// The configuration keys an executable reads: the properties of its options classes (every class with a
/// <c>Section</c> constant, bound section by section, nested classes and lists included) and the "Mmss:..." keys its
/// sources read directly (GetValue). Keys compare as the .NET configuration compares them: case-insensitive, "__" = ":".
/// </summary>
internal sealed class ConfigurationKeys
{
    private readonly List<string[]> _patterns = [];

    /// <summary>Options bound as a list of a section rather than by a Section constant of their own (both executables).</summary>
    private static readonly (string Section, Type Type)[] Lists = [(Mmss.Silo.Relay.PeerTableRegistration.Section + ":#", typeof(Mmss.GrainInterfaces.Peers.PeerOptions))];

    public static readonly ConfigurationKeys Gateway = new(
        [typeof(Mmss.Gateway.Configuration.MmssOptions).Assembly], [typeof(Mmss.Silo.MmssClusterOptions), typeof(Mmss.Silo.Diagnostics.MetricsOptions), typeof(Mmss.Grains.Relay.RelayOptions)], ["gateway"]);

    public static readonly ConfigurationKeys Silo = new(
        [typeof(Mmss.Silo.MmssClusterOptions).Assembly, typeof(Mmss.Grains.MailboxOptions).Assembly], [], ["silo", "grains"]);

    private ConfigurationKeys(Assembly[] assemblies, Type[] more, string[] sourceDirectories)
    {
        var types = assemblies.SelectMany(a => a.GetTypes()).Where(t => SectionOf(t) is not null).Concat(more).Distinct();
        foreach (var type in types) AddProperties(SectionOf(type)!.Split(':'), type, 0);
        foreach (var (section, type) in Lists) AddProperties(section.Split(':'), type, 0);
        var literal = new Regex("\"(Mmss(?::[A-Za-z0-9]+)+)");
        foreach (var directory in sourceDirectories)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(ChartFixture.RepositoryRoot, directory), "*.cs", SearchOption.AllDirectories)
                         .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
            {
                foreach (Match match in literal.Matches(File.ReadAllText(file))) _patterns.Add(match.Groups[1].Value.Split(':'));
            }
        }
    }

    private static string? SectionOf(Type type) =>
        type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field ? field.GetRawConstantValue() as string : null;

    private void AddProperties(string[] prefix, Type type, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            var path = prefix.Append(property.Name).ToArray();
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsScalar(propertyType))
            {
                if (property.CanWrite) _patterns.Add(path);
            }
            else if (propertyType.IsArray || (propertyType.IsGenericType && propertyType.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))))
            {
                var element = propertyType.IsArray ? propertyType.GetElementType()! : propertyType.GetGenericArguments().Last();
                var isMap = propertyType.IsGenericType && propertyType.GetGenericArguments().Length == 2;
                var itemPath = path.Append(isMap ? "*" : "#").ToArray();
                if (IsScalar(element)) _patterns.Add(itemPath);
                else if (depth < 5) AddProperties(itemPath, element, depth + 1);
            }
            else if (propertyType.IsClass && depth < 5)
            {
                AddProperties(path, propertyType, depth + 1);
            }
        }
    }

    private static bool IsScalar(Type type) => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan);

    public bool Reads(string environmentVariable)
    {
        var segments = environmentVariable.Split("__");
        return _patterns.Any(pattern => pattern.Length == segments.Length && pattern.Zip(segments).All(p =>
            p.First == "*" || (p.First == "#" ? p.Second.All(char.IsAsciiDigit) : string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase))));
    }
}

/// <summary>The rendered manifests (the validator's JSON), with what the tests look up in them.</summary>
public sealed class Manifests(IReadOnlyList<JsonObject> documents)
{
    public IReadOnlyList<JsonObject> Documents { get; } = documents;

    public IEnumerable<Manifest> All(string kind) => Documents.Where(d => (string?)d["kind"] == kind).Select(d => new Manifest(d));

    public Manifest? Find(string kind, string name) => All(kind).FirstOrDefault(m => m.Name == name);

    /// <summary>The one object of this kind for this component (label app.kubernetes.io/component).</summary>
    public Manifest Single(string kind, string component)
    {
        var found = All(kind).Where(m => m.Component == component).ToList();
        Assert.True(found.Count == 1, $"expected one {kind} of component {component}, found {found.Count}");
        return found[0];
    }

    public IEnumerable<Manifest> Workloads => Documents.Where(d => d["spec"]?["template"] is not null).Select(d => new Manifest(d));

    public Manifest Workload(string component)
    {
        var found = Workloads.Where(w => w.Component == component).ToList();
        Assert.True(found.Count == 1, $"expected one workload of component {component}, found {found.Count}");
        return found[0];
    }

    public IEnumerable<int> ContainerPorts(string component) =>
        Workload(component).Containers.SelectMany(c => c["ports"]?.AsArray() ?? []).Select(p => p!["containerPort"]!.GetValue<int>());

    public string ConfigMapValue(string component, string key)
    {
        var map = Single("ConfigMap", component);
        return (string?)map.Node["data"]?[key] ?? throw new KeyNotFoundException($"ConfigMap {map.Name} has no {key}");
    }

    /// <summary>Every environment variable the container gets from its env and envFrom.</summary>
    public IEnumerable<string> EnvironmentNames(JsonObject container)
    {
        foreach (var source in container["envFrom"]?.AsArray() ?? [])
        {
            var reference = source!["configMapRef"] ?? source["secretRef"];
            var kind = source["configMapRef"] is not null ? "ConfigMap" : "Secret";
            var found = Find(kind, (string)reference!["name"]!);
            if (found is null) continue;
            foreach (var (key, _) in (found.Node["data"] as JsonObject ?? [])) yield return (string?)source["prefix"] + key;
        }
        foreach (var variable in container["env"]?.AsArray() ?? []) yield return (string)variable!["name"]!;
    }

    public IEnumerable<string> SecretsReferencedBy(JsonObject container) =>
        (container["env"]?.AsArray() ?? []).Select(e => (string?)e!["valueFrom"]?["secretKeyRef"]?["name"]).OfType<string>()
            .Concat((container["envFrom"]?.AsArray() ?? []).Select(e => (string?)e!["secretRef"]?["name"]).OfType<string>());

    /// <summary>The decoded value of a variable the container takes from a rendered Secret.</summary>
    public string SecretValue(JsonObject container, string name)
    {
        var reference = Env(container, name)?["valueFrom"]?["secretKeyRef"] ?? throw new KeyNotFoundException($"{name} is not from a Secret");
        return SecretData((string)reference["name"]!, (string)reference["key"]!) ?? throw new KeyNotFoundException($"{name}: no such Secret key");
    }

    public string? SecretData(string secret, string key) =>
        Find("Secret", secret)?.Node["data"]?[key] is { } data ? Encoding.UTF8.GetString(Convert.FromBase64String((string)data!)) : null;

    /// <summary>A file of the Secret volume the workload mounts at <paramref name="mountPath"/>.</summary>
    public string SecretFile(Manifest workload, string mountPath, string file)
    {
        var mount = workload.Containers.SelectMany(c => c["volumeMounts"]?.AsArray() ?? []).Single(m => (string?)m!["mountPath"] == mountPath)!;
        var volume = workload.PodSpec["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        return SecretData((string)volume["secret"]!["secretName"]!, file) ?? throw new KeyNotFoundException($"{mountPath}/{file}");
    }

    public static JsonObject? Env(JsonObject container, string name) =>
        container["env"]?.AsArray().Select(e => e!.AsObject()).FirstOrDefault(e => (string?)e["name"] == name);

    /// <summary>A port number, or the number of the container's port of that name.</summary>
    public static int ResolvePort(JsonObject container, JsonNode port) => port.GetValueKind() == JsonValueKind.Number
        ? port.GetValue<int>()
        : container["ports"]!.AsArray().Single(p => (string?)p!["name"] == (string)port!)!["containerPort"]!.GetValue<int>();
}

public sealed class Manifest(JsonObject node)
{
    public JsonObject Node { get; } = node;
    public string Name => (string)Node["metadata"]!["name"]!;
    public string? Component => (string?)Node["metadata"]?["labels"]?["app.kubernetes.io/component"];
    public string? Annotation(string name) => (string?)Node["metadata"]?["annotations"]?[name];
    public JsonObject PodSpec => Node["spec"]!["template"]!["spec"]!.AsObject();
    public Dictionary<string, string> PodLabels =>
        Node["spec"]!["template"]!["metadata"]!["labels"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
    public IEnumerable<JsonObject> Containers => PodSpec["containers"]!.AsArray().Select(c => c!.AsObject());
    public IEnumerable<JsonObject> InitContainers => PodSpec["initContainers"]?.AsArray().Select(c => c!.AsObject()) ?? [];
    public IEnumerable<JsonObject> AllContainers => InitContainers.Concat(Containers);
}

/// <summary>A Dockerfile: its stages' instructions, and what the final stage says about the image.</summary>
public sealed record Dockerfile(string Path, IReadOnlyList<Dockerfile.Stage> Stages)
{
    public sealed record Stage(string From, string? Name, IReadOnlyList<(string Instruction, string Arguments)> Instructions)
    {
        public string? Last(string instruction) => Instructions.LastOrDefault(i => i.Instruction == instruction).Arguments;
    }

    public Stage Final => Stages[^1];
    public string FinalBase => Final.From;
    public string? User => Final.Last("USER");
    public string WorkDirectory => Final.Last("WORKDIR") ?? "/";
    public string[] Entrypoint => JsonSerializer.Deserialize<string[]>(Final.Last("ENTRYPOINT") ?? throw new InvalidOperationException($"{Path}: no ENTRYPOINT"))!;
    public int[] Expose => (Final.Last("EXPOSE") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
    public string[] FinalCopies => Final.Instructions.Where(i => i.Instruction == "COPY").Select(i => i.Arguments).ToArray();

    public IReadOnlyDictionary<string, string> Environment =>
        Final.Instructions.Where(i => i.Instruction == "ENV").Select(i => Split(i.Arguments)).ToDictionary(p => p.Key, p => p.Value);

    public static Dockerfile Parse(string path)
    {
        var lines = new List<string>();
        var current = new StringBuilder();
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0) continue;
            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append(' ');
                continue;
            }
            lines.Add(current.Append(line).ToString());
            current.Clear();
        }
        var args = new Dictionary<string, string>();
        var stages = new List<Stage>();
        List<(string, string)>? instructions = null;
        foreach (var line in lines)
        {
            var space = line.IndexOf(' ');
            var instruction = line[..space].ToUpperInvariant();
            var arguments = line[(space + 1)..].Trim();
            if (instruction == "FROM")
            {
                var parts = Regex.Replace(arguments, "\\$\\{?([A-Za-z_][A-Za-z0-9_]*)\\}?", m => args.GetValueOrDefault(m.Groups[1].Value, m.Value))
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries);
                instructions = [];
                stages.Add(new Stage(parts[0], parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null, instructions));
            }
            else if (instructions is null)
            {
                if (instruction == "ARG")
                {
                    var (key, value) = Split(arguments);
                    args[key] = value;
                }
            }
            else
            {
                instructions.Add((instruction, arguments));
            }
        }
        return new Dockerfile(path, stages);
    }

    private static (string Key, string Value) Split(string assignment)
    {
        var equals = assignment.IndexOf('=');
        return equals < 0 ? (assignment.Trim(), "") : (assignment[..equals].Trim(), assignment[(equals + 1)..].Trim().Trim('"'));
    }
}

/// <summary>
/// A Dockerfile's build stage run without a container daemon: its WORKDIR, COPY (from the repository as build context,
/// less what the Dockerfile's .dockerignore excludes) and RUN instructions, in a scratch directory standing for the
/// stage's filesystem (absolute paths in commands are mapped into it). What the build stage does not copy is not there,
/// so a project the Dockerfile forgot fails here as it would in `docker build`.
/// </summary>
internal static class DockerBuildStage
{
    /// <returns>the scratch directory standing for the stage's root</returns>
    public static async Task<string> RunAsync(Dockerfile dockerfile, Dockerfile.Stage stage, string context, string root)
    {
        var ignore = IgnorePatterns(dockerfile.Path + ".dockerignore");
        string Map(string containerPath) => System.IO.Path.Combine(root, containerPath.TrimStart('/'));
        var workDirectory = "/";
        string Absolute(string path) => path.StartsWith('/') ? path : workDirectory.TrimEnd('/') + "/" + path;
        Directory.CreateDirectory(root);
        foreach (var (instruction, arguments) in stage.Instructions)
        {
            switch (instruction)
            {
                case "WORKDIR":
                    workDirectory = Absolute(arguments);
                    Directory.CreateDirectory(Map(workDirectory));
                    break;
                case "COPY":
                    var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    Assert.False(parts[0].StartsWith("--", StringComparison.Ordinal), $"{dockerfile.Path}: COPY {parts[0]} in the build stage is not emulated");
                    var destination = Absolute(parts[^1]);
                    foreach (var source in parts[..^1])
                    {
                        Assert.DoesNotContain('*', source);
                        var from = System.IO.Path.Combine(context, source);
                        if (Directory.Exists(from)) CopyDirectory(from, Map(destination), context, ignore);
                        else if (File.Exists(from) && !Ignored(source, ignore))
                        {
                            var target = parts[^1].EndsWith('/') || parts.Length > 2 ? System.IO.Path.Combine(Map(destination), System.IO.Path.GetFileName(from)) : Map(destination);
                            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                            File.Copy(from, target, overwrite: true);
                        }
                        else Assert.Fail($"{dockerfile.Path}: COPY {source}: not in the build context (or excluded by its .dockerignore)");
                    }
                    break;
                case "RUN":
                    var command = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => t.StartsWith('/') ? Map(t) : t).ToArray();
                    Assert.True(command[0] == "dotnet", $"{dockerfile.Path}: RUN {arguments} is not emulated");
                    // The machine's build servers are left alone.
                    var run = await Tool.RunAsync("dotnet", [.. command.Skip(1), "--disable-build-servers"], Map(workDirectory), TimeSpan.FromMinutes(8));
                    Assert.True(run.ExitCode == 0, $"{dockerfile.Path}: RUN {arguments} failed:\n{run.Output}");
                    break;
                case "ARG" or "ENV" or "LABEL":
                    break;
                default:
                    Assert.Fail($"{dockerfile.Path}: {instruction} in the build stage is not emulated");
                    break;
            }
        }
        return root;
    }

    private static Regex[] IgnorePatterns(string path) => !File.Exists(path) ? [] : File.ReadLines(path)
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(p => new Regex("^" + Regex.Escape(p.TrimEnd('/')).Replace("\\*\\*/", "(.*/)?").Replace("\\*", "[^/]*") + "(/.*)?$"))
        .ToArray();

    private static bool Ignored(string relativePath, Regex[] ignore) => ignore.Any(r => r.IsMatch(relativePath.Replace('\\', '/').TrimEnd('/')));

    private static void CopyDirectory(string from, string to, string context, Regex[] ignore)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in Directory.EnumerateFileSystemEntries(from))
        {
            if (Ignored(System.IO.Path.GetRelativePath(context, entry), ignore)) continue;
            var target = System.IO.Path.Combine(to, System.IO.Path.GetFileName(entry));
            if (Directory.Exists(entry)) CopyDirectory(entry, target, context, ignore);
            else File.Copy(entry, target, overwrite: true);
        }
    }
}

/// <summary>An image as the tests have it: its Dockerfile and what its final stage copies from the build stage.</summary>
public sealed record PublishedImage(string Name, Dockerfile Dockerfile, string PublishDirectory);

/// <summary>helm, node, the chart's value sets, and the two images published once for the whole class.</summary>
public sealed class ChartFixture : IAsyncLifetime
{
    public static readonly string[] ValueSetNames = ["defaults", "external", "existing-secrets", "trial", "local-attachments", "events"];

    /// <summary>helm from MMSS_HELM or the PATH (tests/run.sh installs it).</summary>
    public static string Helm => System.Environment.GetEnvironmentVariable("MMSS_HELM") is { Length: > 0 } helm ? helm : "helm";

    private readonly SemaphoreSlim _publishGate = new(1, 1);
    private PublishedImage? _silo;
    private PublishedImage? _gateway;

    public static string RepositoryRoot { get; } = FindRoot();

    public string ChartDirectory => Path.Combine(RepositoryRoot, "charts", "mmss");

    /// <summary>Scratch directory of this test run: rendered manifests, published images, pod volumes.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "mmss-chart-" + Guid.NewGuid().ToString("N")[..10]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mmss.Orleans.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("the repository root (Mmss.Orleans.sln) is not above the test's bin directory");
    }

    public string[] ValuesFiles(string valueSet) =>
        valueSet == "defaults" ? [] : [Path.Combine(ChartDirectory, "ci", valueSet + "-values.yaml")];

    public async Task<Manifests> RenderAsync(string valueSet) =>
        await RenderAsync(ValuesFiles(valueSet), valueSet);

    public async Task<Manifests> RenderAsync(JsonObject values)
    {
        Directory.CreateDirectory(Root);
        var file = Path.Combine(Root, $"values-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, values.ToJsonString());
        return await RenderAsync([file], Path.GetFileNameWithoutExtension(file));
    }

    private async Task<Manifests> RenderAsync(string[] valuesFiles, string name)
    {
        Directory.CreateDirectory(Root);
        var template = await Tool.RunAsync(Helm, ["template", "mmss", ChartDirectory, "--namespace", "mmss", .. valuesFiles.SelectMany(f => new[] { "-f", f })]);
        Assert.True(template.ExitCode == 0, $"helm template ({name}) failed:\n{template.Output}");
        var rendered = Path.Combine(Root, name + ".yaml");
        var json = Path.Combine(Root, name + ".json");
        await File.WriteAllTextAsync(rendered, template.StandardOutput);
        // Objects the operator makes, which the value set refers to: "# external: secret/NAME claim/NAME serviceaccount/NAME".
        var externals = valuesFiles.SelectMany(File.ReadLines).Where(l => l.StartsWith("# external:", StringComparison.Ordinal))
            .SelectMany(l => l["# external:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .SelectMany(e => e.Split('/', 2) is [var kind, var objectName]
                ? new[] { kind switch { "secret" => "--external-secret", "claim" => "--external-claim", _ => "--external-service-account" }, objectName }
                : throw new FormatException($"external object {e}: expected kind/name"));
        var validator = Path.Combine(RepositoryRoot, "tests", "chart", "validate.mjs");
        Assert.True(Directory.Exists(Path.Combine(RepositoryRoot, "tests", "chart", "node_modules", "kubernetes-models")),
            "the validator's node modules are missing: run bash tests/run.sh (or npm ci --prefix tests/chart)");
        var validation = await Tool.RunAsync("node", [validator, rendered, "--json", json, .. externals]);
        Assert.True(validation.ExitCode == 0, $"the manifests of {name} do not validate:\n{validation.Output}");
        var documents = JsonNode.Parse(await File.ReadAllTextAsync(json))!.AsArray().Select(d => d!.AsObject()).ToList();
        return new Manifests(documents);
    }

    public Task<PublishedImage> SiloImageAsync() => PublishAsync("silo");

    public Task<PublishedImage> GatewayImageAsync() => PublishAsync("gateway");

    /// <summary>
    /// Runs the Dockerfile's build stage (<see cref="DockerBuildStage"/>), once, and returns the directory the final stage
    /// copies into the image: the image's working directory.
    /// </summary>
    private async Task<PublishedImage> PublishAsync(string name)
    {
        await _publishGate.WaitAsync();
        try
        {
            var cached = name == "silo" ? _silo : _gateway;
            if (cached is not null) return cached;
            var dockerfile = Dockerfile.Parse(Path.Combine(RepositoryRoot, name, "Dockerfile"));
            var copy = dockerfile.FinalCopies.Single().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(copy is [var from, _, "."] && from.StartsWith("--from=", StringComparison.Ordinal), $"{name}: the final stage should copy one directory of the build stage into its working directory");
            var stage = dockerfile.Stages.Single(s => s.Name == copy[0]["--from=".Length..]);
            Assert.Contains(stage.Instructions, i => i.Instruction == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal));
            var root = await DockerBuildStage.RunAsync(dockerfile, stage, RepositoryRoot, Path.Combine(Root, "build", name));
            var image = new PublishedImage(name, dockerfile, Path.Combine(root, copy[1].TrimStart('/')));
            if (name == "silo") _silo = image;
            else _gateway = image;
            return image;
        }
        finally
        {
            _publishGate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// Pods of the rendered manifests run as local processes, as a kubelet would set them up: the image's environment, then
/// envFrom and env in order (ConfigMap and Secret values, the downward API with 127.0.0.1 as the pod IP, $(VAR)
/// expansion), every volume a fresh directory (a Secret volume holds the Secret's files) and every path under a mount
/// point moved to that directory, the image's entry point plus the container's arguments, started in the published
/// output as the image's working directory.
/// </summary>
public sealed class LocalPods(Manifests manifests, string root) : IAsyncDisposable
{
    private readonly List<LocalProcess> _processes = [];

    public LocalProcess Start(Manifest workload, JsonObject container, PublishedImage image)
    {
        var podName = $"{workload.Name}-{Guid.NewGuid().ToString("N")[..5]}";
        var volumes = PrepareVolumes(workload, podName);
        var mounts = (container["volumeMounts"]?.AsArray() ?? []).Select(m => ((string)m!["mountPath"]!, volumes[(string)m["name"]!]))
            .OrderByDescending(m => m.Item1.Length).ToList();
        string Local(string value)
        {
            foreach (var (mountPath, directory) in mounts)
            {
                if (value == mountPath || value.StartsWith(mountPath + "/", StringComparison.Ordinal)) return directory + value[mountPath.Length..];
            }
            return value;
        }

        var environment = new Dictionary<string, string>(image.Dockerfile.Environment);
        foreach (var source in container["envFrom"]?.AsArray() ?? [])
        {
            var prefix = (string?)source!["prefix"] ?? "";
            if (source["configMapRef"] is { } map)
            {
                foreach (var (key, value) in manifests.Find("ConfigMap", (string)map["name"]!)!.Node["data"]!.AsObject()) environment[prefix + key] = (string)value!;
            }
            if (source["secretRef"] is { } secret)
            {
                foreach (var (key, _) in manifests.Find("Secret", (string)secret["name"]!)!.Node["data"]!.AsObject())
                    environment[prefix + key] = manifests.SecretData((string)secret["name"]!, key)!;
            }
        }
        foreach (var variable in container["env"]?.AsArray() ?? [])
        {
            var name = (string)variable!["name"]!;
            if (variable["valueFrom"] is not { } from)
            {
                environment[name] = Regex.Replace((string?)variable["value"] ?? "", "\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)",
                    m => environment.GetValueOrDefault(m.Groups[1].Value, m.Value));
            }
            else if (from["fieldRef"] is { } field)
            {
                environment[name] = (string)field["fieldPath"]! switch
                {
                    "metadata.name" => podName,
                    "metadata.namespace" => "mmss",
                    "status.podIP" => "127.0.0.1",
                    var other => throw new NotSupportedException($"fieldRef {other}"),
                };
            }
            else if (from["secretKeyRef"] is { } secretKey)
            {
                environment[name] = manifests.SecretData((string)secretKey["name"]!, (string)secretKey["key"]!)
                    ?? throw new KeyNotFoundException($"{name}: Secret {secretKey["name"]} key {secretKey["key"]} is not rendered");
            }
            else if (from["configMapKeyRef"] is { } mapKey)
            {
                environment[name] = (string)manifests.Find("ConfigMap", (string)mapKey["name"]!)!.Node["data"]![(string)mapKey["key"]!]!;
            }
            else
            {
                throw new NotSupportedException($"{name}: {from.ToJsonString()}");
            }
        }
        foreach (var key in environment.Keys.ToList()) environment[key] = Local(environment[key]);

        var entrypoint = image.Dockerfile.Entrypoint;
        var arguments = entrypoint.Skip(1).Concat((container["args"]?.AsArray() ?? []).Select(a => (string)a!)).ToArray();
        Assert.True(image.Dockerfile.WorkDirectory == "/app", "the image's working directory stands for the published output");
        var process = new LocalProcess($"{podName}/{container["name"]}", entrypoint[0], arguments, image.PublishDirectory, environment);
        _processes.Add(process);
        return process;
    }

    private Dictionary<string, string> PrepareVolumes(Manifest workload, string podName)
    {
        var volumes = new Dictionary<string, string>();
        foreach (var volume in workload.PodSpec["volumes"]?.AsArray() ?? [])
        {
            var name = (string)volume!["name"]!;
            var directory = Path.Combine(root, "pods", podName, name);
            Directory.CreateDirectory(directory);
            if (volume["secret"] is { } secret)
            {
                var secretName = (string)secret["secretName"]!;
                foreach (var (key, _) in manifests.Find("Secret", secretName)?.Node["data"]?.AsObject() ?? [])
                    File.WriteAllText(Path.Combine(directory, key), manifests.SecretData(secretName, key));
            }
            else if (volume["configMap"] is { } map)
            {
                foreach (var (key, value) in manifests.Find("ConfigMap", (string)map["name"]!)?.Node["data"]?.AsObject() ?? [])
                    File.WriteAllText(Path.Combine(directory, key), (string)value!);
            }
            volumes[name] = directory;
        }
        return volumes;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
    }
}

/// <summary>One container's process: output kept, killed at dispose and, at the latest, when the test process exits.</summary>
public sealed class LocalProcess : IAsyncDisposable
{
    private static readonly HashSet<Process> Running = [];
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    static LocalProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Running)
            {
                foreach (var process in Running)
                {
                    try
                    {
                        process.Kill(entireProcessTree: true);
                    }
                    catch (Exception)
                    {
                        // best effort while the test process exits
                    }
                }
            }
        };
    }

    public LocalProcess(string name, string command, string[] arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        Name = name;
        var start = new ProcessStartInfo(command, arguments)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // A pod sees only what the image and the pod spec set: nothing of this machine's MMSS or Kubernetes settings.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Mmss__", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("KUBERNETES_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
                     || k is "POD_NAME" or "POD_NAMESPACE" or "POD_IP" or "ORLEANS_SERVICE_ID" or "ORLEANS_CLUSTER_ID").ToList())
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in environment) start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {name}");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
        lock (Running) Running.Add(_process);
    }

    public string Name { get; }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 1_000_000) _output.AppendLine(line);
        }
    }

    /// <summary>The exit code; kills the process and fails the test after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"{Name} did not exit within {timeout.TotalSeconds:0}s:\n{Output}");
        }
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>Polls the container's probes as the kubelet would: startup and liveness, then readiness, until all pass.</summary>
    public async Task WaitForProbesAsync(JsonObject container, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            if (container[probe]?["httpGet"] is not { } get) continue;
            var url = $"http://127.0.0.1:{Manifests.ResolvePort(container, get["port"]!)}{get["path"]}";
            var last = "no answer";
            while (true)
            {
                if (_process.HasExited)
                {
                    await _process.WaitForExitAsync();
                    Assert.Fail($"{Name} exited with {_process.ExitCode} before its {probe} passed:\n{Output}");
                }
                try
                {
                    using var response = await http.GetAsync(url);
                    if (response.IsSuccessStatusCode) break;
                    last = $"{(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    last = e.Message;
                }
                if (clock.Elapsed > timeout) Assert.Fail($"{Name}: {probe} {url} did not pass within {timeout.TotalSeconds:0}s (last: {last}):\n{Output}");
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Waits until the readiness probe fails (503), as the endpoints controller would see it.</summary>
    public async Task WaitUntilNotReadyAsync(JsonObject container, TimeSpan timeout)
    {
        var get = container["readinessProbe"]!["httpGet"]!;
        var url = $"http://127.0.0.1:{Manifests.ResolvePort(container, get["port"]!)}{get["path"]}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Assert.Fail($"{Name}: the readiness endpoint went away instead of answering 503 while draining: {e.Message}\n{Output}");
            }
            await Task.Delay(50);
        }
        Assert.Fail($"{Name}: still ready {timeout.TotalSeconds:0}s after SIGTERM:\n{Output}");
    }

    /// <summary>SIGTERM, as the kubelet stops a container.</summary>
    public void Terminate() => Assert.Equal(0, Kill(_process.Id, 15));

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        lock (Running) Running.Remove(_process);
        _process.Dispose();
    }
}

/// <summary>Runs a command line tool to its end.</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => StandardError + StandardOutput;
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? ChartFixture.RepositoryRoot,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} is not installed ({e.Message}): run bash tests/run.sh", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in time:\n{await errors}{await output}");
            }
            return new Result(process.ExitCode, await output, await errors);
        }
    }
}
