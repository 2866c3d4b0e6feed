using System.Globalization;
using System.Text.Json.Nodes;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>Meta webhook payloads as meta-cloud-api.md §3 describes them, built for tests.</summary>
public static class MetaPayloads
{
    public const string WabaId = "102290129340398";

    public static JsonObject Delivery(params JsonObject[] entries) => new()
    {
        ["object"] = "whatsapp_business_account",
        ["entry"] = new JsonArray([.. entries]),
    };

    public static JsonObject Entry(params JsonObject[] changes) => Entry(WabaId, changes);

    public static JsonObject Entry(string wabaId, params JsonObject[] changes) => new()
    {
        ["id"] = wabaId,
        ["changes"] = new JsonArray([.. changes]),
    };

    public static JsonObject MessagesChange(string phoneNumberId, JsonArray? statuses = null, JsonArray? messages = null, JsonArray? contacts = null)
    {
        var value = new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["metadata"] = new JsonObject { ["display_phone_number"] = "15550783881", ["phone_number_id"] = phoneNumberId },
        };
        if (contacts is not null)
        {
            value["contacts"] = contacts;
        }

        if (messages is not null)
        {
            value["messages"] = messages;
        }

        if (statuses is not null)
        {
            value["statuses"] = statuses;
        }

        return new JsonObject { ["field"] = "messages", ["value"] = value };
    }

    public static JsonObject Status(string wamid, string status, DateTimeOffset at, string recipient = "919876543210",
        string? callbackData = null, int? errorCode = null, string? errorTitle = null)
    {
        var json = new JsonObject
        {
            ["id"] = wamid,
            ["status"] = status,
            ["timestamp"] = Seconds(at),
            ["recipient_id"] = recipient,
        };
        if (callbackData is not null)
        {
            json["biz_opaque_callback_data"] = callbackData;
        }

        if (errorCode is not null)
        {
            json["errors"] = new JsonArray(new JsonObject
            {
                ["code"] = errorCode,
                ["title"] = errorTitle ?? "Error",
                ["message"] = errorTitle ?? "Error",
                ["error_data"] = new JsonObject { ["details"] = "Details of the error." },
                ["href"] = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            });
        }

        return json;
    }

    public static JsonObject Text(string wamid, string from, string body, DateTimeOffset at) => new()
    {
        ["from"] = from,
        ["id"] = wamid,
        ["timestamp"] = Seconds(at),
        ["type"] = "text",
        ["text"] = new JsonObject { ["body"] = body },
    };

    /// <summary>A notice from Meta in the messages array (meta-cloud-api.md §3.4 and §6), not the customer writing.</summary>
    public static JsonObject SystemMessage(string wamid, string from, JsonObject system, DateTimeOffset at) => new()
    {
        ["from"] = from,
        ["id"] = wamid,
        ["timestamp"] = Seconds(at),
        ["type"] = "system",
        ["system"] = system,
    };

    public static JsonObject Contact(string waId, string name) => new()
    {
        ["profile"] = new JsonObject { ["name"] = name },
        ["wa_id"] = waId,
    };

    public static JsonObject UserPreference(string phoneNumberId, string waId, string value, DateTimeOffset at) => new()
    {
        ["field"] = "user_preferences",
        ["value"] = new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["metadata"] = new JsonObject { ["display_phone_number"] = "15550783881", ["phone_number_id"] = phoneNumberId },
            ["contacts"] = new JsonArray(Contact(waId, "Sheena Nelson")),
            ["user_preferences"] = new JsonArray(new JsonObject
            {
                ["wa_id"] = waId,
                ["detail"] = "User requested to stop marketing messages",
                ["category"] = "marketing_messages",
                ["value"] = value,
                ["timestamp"] = at.ToUnixTimeSeconds(),
            }),
        },
    };

    public static JsonObject TemplateStatus(string templateEvent, string name, string language, long templateId) => new()
    {
        ["field"] = "message_template_status_update",
        ["value"] = new JsonObject
        {
            ["event"] = templateEvent,
            ["message_template_id"] = templateId,
            ["message_template_name"] = name,
            ["message_template_language"] = language,
            ["reason"] = "NONE",
        },
    };

    /// <summary>
    /// Meta's rejection of a template for INVALID_FORMAT, with the <c>rejection_info</c> Meta adds to that one (its
    /// webhook reference: <c>{reason, recommendation}</c>, what is wrong and what to change); any node stands in for it.
    /// </summary>
    public static JsonObject TemplateRejectedForFormat(string name, string language, long templateId, JsonNode? rejectionInfo)
    {
        var change = TemplateStatus("REJECTED", name, language, templateId);
        change["value"]!["reason"] = "INVALID_FORMAT";
        change["value"]!["message_template_category"] = "UTILITY";
        change["value"]!["rejection_info"] = rejectionInfo;
        return change;
    }

    private static string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
