using System.Text;
using TwaBot.Api.Meta;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Tests.Meta;

/// <summary>
/// The whole body of each kind of send, byte for byte: what Meta reads is what the client asked for, and nothing
/// Meta would refuse (a field its type does not take, a button the template lacks). MetaClientTests sends some of
/// these through HTTP; this table covers the branches without a server.
/// </summary>
public class MetaOutgoingMessageTests
{
    // Every body begins alike; each row gives the rest, from the value of "type" on.
    private const string Envelope = """{"messaging_product":"whatsapp","recipient_type":"individual","to":"919876543210","biz_opaque_callback_data":"twb:7","type":""" + "\"";

    private static readonly TemplateShape UrlThenCoupon =
        TemplateShape.Positional with { Buttons = [TemplateButtons.None, TemplateButtons.UrlSuffix, TemplateButtons.CouponCode] };

    private static readonly Dictionary<string, MetaOutgoingMessage> Messages = new()
    {
        ["text"] = MetaOutgoingMessage.Text("919876543210", "Hi Rahul", "twb:7"),
        ["document"] = MetaOutgoingMessage.Media("919876543210", "document", "https://cdn.example/i.pdf", "Invoice", "i.pdf", "twb:7"),
        ["document, no caption nor name"] = MetaOutgoingMessage.Media("919876543210", "document", "https://cdn.example/i.pdf", null, null, "twb:7"),
        ["image"] = MetaOutgoingMessage.Media("919876543210", "image", "https://cdn.example/p.jpg", "Look", "p.jpg", "twb:7"),
        ["video"] = MetaOutgoingMessage.Media("919876543210", "video", "https://cdn.example/v.mp4", "Watch", "v.mp4", "twb:7"),
        ["audio"] = MetaOutgoingMessage.Media("919876543210", "audio", "https://cdn.example/a.ogg", "Listen", "a.ogg", "twb:7"),
        ["template, no values"] = MetaOutgoingMessage.Template("919876543210", "hello", "en_US", [], [], "twb:7"),
        ["template, header and body"] = MetaOutgoingMessage.Template("919876543210", "order", "en", ["Rahul", "ORD-1"], ["Sale"], "twb:7"),
        ["template, header only"] = MetaOutgoingMessage.Template("919876543210", "order", "en", [], ["Sale"], "twb:7"),
        ["template, named"] = MetaOutgoingMessage.Template("919876543210", "order", "en", ["Rahul", "ORD-1"], ["Sale"], "twb:7",
            new TemplateShape(null, ["sale"], ["first_name", "order_id"])),
        ["template, fewer names than values"] = MetaOutgoingMessage.Template("919876543210", "order", "en", ["Rahul", "ORD-1"], [], "twb:7",
            new TemplateShape(null, null, ["first_name"])),
        ["template, media header"] = MetaOutgoingMessage.Template("919876543210", "order", "en", ["Rahul"], ["https://cdn.example/p.jpg"], "twb:7",
            new TemplateShape("image", null, null)),
        ["template, media header without its file"] = MetaOutgoingMessage.Template("919876543210", "order", "en", ["Rahul"], [], "twb:7",
            new TemplateShape("video", null, null)),
        ["template, buttons only"] = MetaOutgoingMessage.Template("919876543210", "offer", "en", [], [], "twb:7", UrlThenCoupon, ["ORD-1", "SAVE10"]),
        ["template, fewer button values than buttons"] = MetaOutgoingMessage.Template("919876543210", "offer", "en", [], [], "twb:7",
            TemplateShape.Positional with { Buttons = [TemplateButtons.UrlSuffix, TemplateButtons.UrlSuffix] }, ["ORD-1"]),
        ["template, more button values than buttons"] = MetaOutgoingMessage.Template("919876543210", "offer", "en", [], [], "twb:7",
            TemplateShape.Positional with { Buttons = [TemplateButtons.Unsupported, TemplateButtons.CouponCode] }, ["SAVE10", "EXTRA"]),
        ["authentication"] = MetaOutgoingMessage.Authentication("919876543210", "otp", "en", "482913", "twb:7"),
        ["authentication shape, no code"] = MetaOutgoingMessage.Template("919876543210", "otp", "en", [], [], "twb:7", TemplateShape.AuthenticationCode),
    };

    [Theory]
    [InlineData("text", """text","text":{"preview_url":false,"body":"Hi Rahul"}}""")]
    [InlineData("document", """document","document":{"link":"https://cdn.example/i.pdf","caption":"Invoice","filename":"i.pdf"}}""")]
    [InlineData("document, no caption nor name", """document","document":{"link":"https://cdn.example/i.pdf"}}""")]
    [InlineData("image", """image","image":{"link":"https://cdn.example/p.jpg","caption":"Look"}}""")]
    [InlineData("video", """video","video":{"link":"https://cdn.example/v.mp4","caption":"Watch"}}""")]
    [InlineData("audio", """audio","audio":{"link":"https://cdn.example/a.ogg"}}""")]
    [InlineData("template, no values", """template","template":{"name":"hello","language":{"code":"en_US"}}}""")]
    [InlineData("template, header and body", """template","template":{"name":"order","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"text","text":"Sale"}]},{"type":"body","parameters":[{"type":"text","text":"Rahul"},{"type":"text","text":"ORD-1"}]}]}}""")]
    [InlineData("template, header only", """template","template":{"name":"order","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"text","text":"Sale"}]}]}}""")]
    [InlineData("template, named", """template","template":{"name":"order","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"text","parameter_name":"sale","text":"Sale"}]},{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Rahul"},{"type":"text","parameter_name":"order_id","text":"ORD-1"}]}]}}""")]
    [InlineData("template, fewer names than values", """template","template":{"name":"order","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Rahul"},{"type":"text","text":"ORD-1"}]}]}}""")]
    [InlineData("template, media header", """template","template":{"name":"order","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://cdn.example/p.jpg"}}]},{"type":"body","parameters":[{"type":"text","text":"Rahul"}]}]}}""")]
    [InlineData("template, media header without its file", """template","template":{"name":"order","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"Rahul"}]}]}}""")]
    [InlineData("template, buttons only", """template","template":{"name":"offer","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]},{"type":"button","sub_type":"copy_code","index":"2","parameters":[{"type":"coupon_code","coupon_code":"SAVE10"}]}]}}""")]
    [InlineData("template, fewer button values than buttons", """template","template":{"name":"offer","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"ORD-1"}]}]}}""")]
    [InlineData("template, more button values than buttons", """template","template":{"name":"offer","language":{"code":"en"},"components":[{"type":"button","sub_type":"copy_code","index":"1","parameters":[{"type":"coupon_code","coupon_code":"SAVE10"}]}]}}""")]
    [InlineData("authentication", """template","template":{"name":"otp","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"482913"}]}]}}""")]
    [InlineData("authentication shape, no code", """template","template":{"name":"otp","language":{"code":"en"}}}""")]
    public void EachSendIsWrittenInMetasFormat(string message, string content)
    {
        Assert.Equal(Envelope + content, Encoding.UTF8.GetString(Messages[message].ToJsonBytes()));
    }

    [Theory]
    [InlineData("image", "Order {{order_id}}", "Hi {{first_name}}", "Utility", "image|-|first_name|False")]
    [InlineData("document", null, "Hi {{1}}", "Marketing", "document|-|-|False")]
    [InlineData("text", "Order {{order_id}}", "Hi {{first_name}}", "Utility", "-|order_id|first_name|False")]
    [InlineData(null, null, "{{1}} is your code.", "authentication", "-|-|-|True")]
    public void AStoredTemplatesShapeComesFromItsHeaderBodyAndCategory(string? headerType, string? headerText, string content, string category, string shape)
    {
        var template = new Template
        {
            Name = "t", Language = "en", Status = Template.Approved, HeaderType = headerType, HeaderText = headerText, Content = content, Category = category,
            Buttons = [TemplateButtons.UrlSuffix],
        };

        var of = TemplateShape.Of(template);

        Assert.Equal(shape, string.Join('|', of.MediaHeader ?? "-", Names(of.HeaderNames), Names(of.BodyNames), of.CodeButton));
        Assert.Equal([TemplateButtons.UrlSuffix], of.Buttons);
    }

    [Fact]
    public void AShapeNeedsATemplate()
    {
        Assert.Throws<ArgumentNullException>("template", () => TemplateShape.Of(null!));
    }

    private static string Names(IReadOnlyList<string>? names) => names is null ? "-" : string.Join(',', names);
}
