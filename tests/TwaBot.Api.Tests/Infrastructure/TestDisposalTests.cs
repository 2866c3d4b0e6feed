using System.Reflection;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// xunit 2 disposes test classes and class fixtures through <see cref="IDisposable"/> and <see cref="IAsyncLifetime"/>
/// only: one that is just <see cref="IAsyncDisposable"/> is never disposed, and its server keeps running and
/// its database files, inbox file and key ring stay in the temp folder after the run.
/// </summary>
public class TestDisposalTests
{
    private static readonly Type[] TempFileOwners = [typeof(TwaBotApiFactory), typeof(TemporaryDatabase), typeof(TemporaryFolder), typeof(ServerProcess)];

    [Fact]
    public void EveryTestClassAndFixtureIsDisposedTheWayXunitDisposes()
    {
        var types = typeof(TestDisposalTests).Assembly.GetTypes();
        var testClasses = types.Where(t => !t.IsAbstract && t.GetMethods().Any(m => m.IsDefined(typeof(FactAttribute), inherit: true)));
        var fixtures = types.SelectMany(ClassFixturesOf);

        var undisposed = testClasses.Concat(fixtures).Distinct()
            .Where(t => !typeof(IDisposable).IsAssignableFrom(t) && !typeof(IAsyncLifetime).IsAssignableFrom(t))
            .Where(t => typeof(IAsyncDisposable).IsAssignableFrom(t) || OwnsTempFiles(t))
            .Select(t => t.FullName)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(undisposed.Count == 0, "Never disposed by xunit (implement IAsyncLifetime or IDisposable): " + string.Join(", ", undisposed));
    }

    /// <summary>Whether the class keeps a server, database file or folder of its own in a field (a class fixture is xunit's).</summary>
    private static bool OwnsTempFiles(Type type)
    {
        var fixtures = ClassFixturesOf(type).ToHashSet();
        return type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Any(f => !fixtures.Contains(f.FieldType) && TempFileOwners.Any(owner => owner.IsAssignableFrom(f.FieldType)));
    }

    private static IEnumerable<Type> ClassFixturesOf(Type type) => type.GetInterfaces()
        .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>))
        .Select(i => i.GetGenericArguments()[0]);
}
