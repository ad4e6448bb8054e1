using System.Globalization;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>One scrape of a <c>/metrics</c> endpoint (Prometheus text format 0.0.4): every sample by series.</summary>
public sealed class PrometheusScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public string Text { get; }

    private PrometheusScrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var brace = line.IndexOf('{');
            var space = line.LastIndexOf(' ');
            var name = brace >= 0 ? line[..brace] : line[..line.IndexOf(' ')];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0)
            {
                var close = line.LastIndexOf('}');
                foreach (var pair in line[(brace + 1)..close].Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=');
                    labels[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                }
                space = line.IndexOf(' ', close);
            }
            var value = line[(space + 1)..].Split(' ')[0];
            _samples.Add((name, labels, double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
    }

    public static async Task<PrometheusScrape> GetAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return new PrometheusScrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sum over the series of <paramref name="name"/> carrying these labels (0 when there is none yet).</summary>
    public double Value(string name, params (string Label, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Label) == l.Value)).Sum(s => s.Value);

    public bool Has(string namePrefix) => _samples.Any(s => s.Name.StartsWith(namePrefix, StringComparison.Ordinal));

    /// <summary>Scrapes until <paramref name="done"/> holds (counters of work still settling), up to 20 s; the last scrape.</summary>
    public static async Task<PrometheusScrape> WaitForAsync(string url, Func<PrometheusScrape, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var scrape = await GetAsync(url);
            if (done(scrape) || DateTime.UtcNow > deadline) return scrape;
            await Task.Delay(200);
        }
    }
}
