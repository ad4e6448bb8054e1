using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmss.Grains.Diagnostics;
using Mmss.Silo.Diagnostics;

namespace Mmss.Grains.Tests;

/// <summary>Log scopes are pushed only where a log line can show them.</summary>
public sealed class LogScopes_Tests
{
    private static LogScopes For(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddMmssLogFormat(configuration));
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<LogScopes>();
    }

    [Fact]
    public void The_default_text_format_writes_no_scopes_so_none_is_pushed()
    {
        Assert.False(For().Written);
        Assert.False(For((LogFormat.Key, "text")).Written);
        Assert.Null(For().ForMessage(new RecordingLogger(), "alice", "m1"));
    }

    [Fact]
    public void The_json_format_and_a_console_told_to_include_scopes_get_them()
    {
        Assert.True(For((LogFormat.Key, "json")).Written);
        Assert.True(For(("Logging:Console:FormatterOptions:IncludeScopes", "true")).Written);
        var logger = new RecordingLogger();
        using (For((LogFormat.Key, "json")).ForMessage(logger, "alice", "m1"))
        {
            var scope = Assert.IsType<LogScope>(Assert.Single(logger.Scopes));
            Assert.Equal(("alice", "m1"), (scope.Udn, scope.MessageId));
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<object> Scopes { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            Scopes.Add(state);
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
