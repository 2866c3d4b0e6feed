namespace TwaBot.Api.OpenApi;

public static class OpenApiExtensions
{
    public static IServiceCollection AddTwaBotOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen();
        return services;
    }

    public static WebApplication UseTwaBotOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI();
        return app;
    }
}

/// <summary>Marks endpoints that need <c>X-API-Key</c>.</summary>
public sealed class ApiKeySecurity;

/// <summary>Marks endpoints that need <c>X-Admin-Key</c>.</summary>
public sealed class AdminKeySecurity;
