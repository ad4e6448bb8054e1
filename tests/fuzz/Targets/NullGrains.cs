using System.Reflection;
using Orleans;
using Orleans.Runtime;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// An <see cref="IGrainFactory"/> whose grains answer every call at once with the default value (no user, no group,
/// nothing used of the allowance): the gateway code under fuzzing runs without a cluster.
/// </summary>
public class NullGrains : DispatchProxy
{
    public static IGrainFactory Factory { get; } = (IGrainFactory)Create(typeof(IGrainFactory), typeof(NullGrains));

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var type = targetMethod!.ReturnType;
        if (type == typeof(void)) return null;
        if (type == typeof(Task)) return Task.CompletedTask;
        if (type == typeof(ValueTask)) return ValueTask.CompletedTask;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var value = Default(type.GetGenericArguments()[0]);
            return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(type.GetGenericArguments()[0]).Invoke(null, [value]);
        }
        if (type.IsInterface && typeof(IAddressable).IsAssignableFrom(type)) return Create(type, typeof(NullGrains));
        return Default(type);
    }

    private static object? Default(Type type) => type.IsValueType ? Activator.CreateInstance(type) : null;
}
