namespace Mmss.Gateway.Provisioning;

/// <summary>The admin API's and seed file's group: {"gdn":"9001","name":"Patrol","members":["1101","1102"]}.</summary>
public sealed record GroupRequest(string? Gdn, string? Name, List<string>? Members);
