using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TwaBot.Api.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the server.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<TwaBotDbContext>
{
    public TwaBotDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, DataExtensions.BuildConnectionString(null, Directory.GetCurrentDirectory()));
        return new TwaBotDbContext(options.Options);
    }
}
