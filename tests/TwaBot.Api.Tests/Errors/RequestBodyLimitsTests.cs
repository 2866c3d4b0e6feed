using Microsoft.AspNetCore.Http;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Tests.Errors;

/// <summary>Which body limit a request gets by its method and path: routing matches paths in any case and with a trailing slash, so the limits do too.</summary>
public class RequestBodyLimitsTests
{
    [Theory]
    [InlineData("/admin/v1/businesses/7/suppressions/import", RequestBodyLimits.SuppressionImportBytes)]
    [InlineData("/Admin/V1/Businesses/7/Suppressions/IMPORT", RequestBodyLimits.SuppressionImportBytes)]
    [InlineData("/admin/v1/businesses/123456/suppressions/import/", RequestBodyLimits.SuppressionImportBytes)]
    [InlineData("/admin/v1/businesses/+7/suppressions/import", RequestBodyLimits.SuppressionImportBytes)]
    [InlineData("/admin/v1/businesses/ 7/suppressions/import", RequestBodyLimits.SuppressionImportBytes)]
    [InlineData("/admin/v1/businesses/99999999999999999999/suppressions/import", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses/7.0/suppressions/import", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses/7/suppressions", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses/7/suppressions/919876543210", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses/x/suppressions/import", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses//suppressions/import", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses/7/templates/import", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses/7/suppressions/import/more", RequestBodyLimits.ApiBytes)]
    [InlineData("/api/v1/businesses/7/suppressions/import", RequestBodyLimits.ApiBytes)]
    [InlineData("/api/v1/send-template", RequestBodyLimits.ApiBytes)]
    [InlineData("/admin/v1/businesses", RequestBodyLimits.ApiBytes)]
    [InlineData("/webhooks/meta", RequestBodyLimits.WebhookBytes)]
    [InlineData("/admin/v1/businesses/7/suppressions/import", RequestBodyLimits.ApiBytes, "GET")] // GET /suppressions/{phone}
    [InlineData("/admin/v1/businesses/7/suppressions/import", RequestBodyLimits.ApiBytes, "DELETE")]
    [InlineData("/admin/v1/businesses/7/suppressions/import", RequestBodyLimits.SuppressionImportBytes, "post")] // as routing reads a method
    [InlineData("/sandbox/graph/v21.0/123/messages", RequestBodyLimits.WebhookBytes)]
    public void EachPathGetsItsLimit(string path, long limit, string method = "POST") =>
        Assert.Equal(limit, RequestBodyLimits.LimitFor(method, new PathString(path)));
}
