namespace TwaBot.Api.OpenApi;

/// <summary>
/// Example bodies for the OpenAPI document, taken from the public API documentation
/// (twabot-api-v1.txt) where it shows one, so the document shows what the docs promise; /templates adds a template
/// with buttons, to show button_params (an addition to the docs).
/// </summary>
public static class SeedExamples
{
    public const string Health = """
        {
          "success": true,
          "business": "Your Business Name",
          "whatsapp_connected": true,
          "api_key_name": "My CRM",
          "timestamp": "2026-04-02T10:30:00.000Z",
          "mode": "live"
        }
        """;

    public const string Templates = """
        {
          "success": true,
          "templates": [
            {
              "id": 12,
              "name": "order_confirmation",
              "display_name": "Order Confirmation",
              "content": "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!",
              "category": "UTILITY",
              "language": "en",
              "header_type": null,
              "header_text": null,
              "footer_text": "TwaBot - WhatsApp Business",
              "variables": ["customer_name", "order_id", "amount"],
              "button_params": []
            },
            {
              "id": 15,
              "name": "diwali_offer",
              "display_name": null,
              "content": "Hi {{1}}, your Diwali offer is here.",
              "category": "MARKETING",
              "language": "en",
              "header_type": null,
              "header_text": null,
              "footer_text": null,
              "variables": ["customer_name"],
              "button_params": [
                { "kind": "url_suffix", "button_index": 1, "text": "Track order", "url": "https://shop.example/track/{{1}}" },
                { "kind": "coupon_code", "button_index": 2, "text": null, "url": null }
              ]
            }
          ]
        }
        """;

    public const string MissingApiKey = """
        {
          "success": false,
          "error": "API key is required. Pass it in the X-API-Key header.",
          "error_code": "MISSING_API_KEY"
        }
        """;

    public const string AdminUnauthorized = """
        {
          "success": false,
          "error": "A valid admin key is required in the X-Admin-Key header.",
          "error_code": "ADMIN_UNAUTHORIZED"
        }
        """;

    public const string CreateBusinessRequest = """
        { "name": "Acme Stores", "plan": "Growth", "time_zone": "Asia/Kolkata" }
        """;

    public const string BusinessResponse = """
        {
          "success": true,
          "business": {
            "id": 1,
            "name": "Acme Stores",
            "plan": "Growth",
            "time_zone": "Asia/Kolkata",
            "whatsapp": { "connected": false, "phone_number_id": null, "waba_id": null, "display_phone_number": null, "sandbox": false, "token_refused_at": null }
          }
        }
        """;

    public const string InboundRequest = """
        { "business_id": 1, "from": "919876543210", "text": "Hi, is my order on its way?", "name": "Rahul" }
        """;

    public const string InboundResponse = """
        { "success": true, "wamid": "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0E0QjVDNkQ3RThGOTBBMUIyQzMA", "user_id": "IN.07385412996021847315", "delivered": true }
        """;

    public const string CreateApiKeyRequest = """
        { "name": "My CRM", "permissions": ["send_template", "send_text"], "per_minute_limit": 60, "daily_limit": null, "expires_at": null }
        """;

    public const string CreatedApiKeyResponse = """
        {
          "success": true,
          "api_key": {
            "key": "twb_live_3FhQ2xk9LmZr8VbN1sTq7YcWd5HpJ0uGe4KaB6oXiRn0xQXoA",
            "id": 7,
            "name": "My CRM",
            "prefix": "twb_live_3FhQ2x",
            "permissions": ["send_template", "send_text"],
            "per_minute_limit": 60,
            "daily_limit": null,
            "expires_at": null,
            "revoked_at": null,
            "last_used_at": null,
            "created_at": "2026-04-14T10:30:45.000Z"
          }
        }
        """;
}
