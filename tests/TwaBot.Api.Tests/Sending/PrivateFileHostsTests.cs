using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Sending;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// File URLs Meta's servers cannot download from (this machine, private and other non-internet addresses) are refused
/// before Meta, naming the field; public addresses and ordinary names go on, with no DNS lookup.
/// </summary>
public class PrivateFileHostsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LocalHost", true)]
    [InlineData("localhost.", true)]
    [InlineData("files.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.10.3", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("10.255.255.255", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.254", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("192.168.255.255", true)]
    [InlineData("169.254.169.254", true)]  // a cloud's metadata address, link-local
    [InlineData("169.254.0.1", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("100.127.255.254", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("0.1.2.3", true)]                // anywhere in 0.0.0.0/8, "this network": never routed
    [InlineData("1.0.0.1", false)]
    [InlineData("[::1]", true)]
    [InlineData("[::]", true)]
    [InlineData("[fc00::1]", true)]
    [InlineData("[fd12:3456:789a::1]", true)]
    [InlineData("[fe80::1]", true)]
    [InlineData("[febf::1]", true)]
    [InlineData("[::ffff:10.0.0.1]", true)]     // IPv4-mapped: judged as its IPv4
    [InlineData("[::ffff:127.0.0.1]", true)]
    [InlineData("[::10.0.0.1]", true)]          // the older IPv4-compatible form: judged as its IPv4 too
    [InlineData("[::127.0.0.1]", true)]
    [InlineData("10.0.0.1.", true)]             // an address with a name's trailing dot is still the address
    [InlineData("127.0.0.1.", true)]
    [InlineData("example.com", false)]
    [InlineData("cdn.example.com", false)]
    [InlineData("localhost.example.com", false)] // an ordinary name that starts with "localhost"
    [InlineData("mylocalhost", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("172.15.255.255", false)]        // just outside 172.16/12
    [InlineData("172.32.0.1", false)]
    [InlineData("100.63.255.255", false)]        // just outside 100.64/10
    [InlineData("100.128.0.1", false)]
    [InlineData("169.253.0.1", false)]
    [InlineData("11.0.0.1", false)]
    [InlineData("192.169.0.1", false)]
    [InlineData("[2606:4700::1111]", false)]
    [InlineData("[fec0::1]", false)]             // just outside fe80::/10
    [InlineData("[fbff::1]", false)]             // just outside fc00::/7
    [InlineData("[::ffff:8.8.8.8]", false)]
    [InlineData("[::8.8.8.8]", false)]
    [InlineData("8.8.8.8.", false)]
    [InlineData("224.0.0.1", true)]              // multicast, 224/4
    [InlineData("239.255.255.250", true)]
    [InlineData("223.255.255.255", false)]       // just below it
    [InlineData("240.0.0.1", true)]              // reserved, 240/4
    [InlineData("255.255.255.255", true)]        // broadcast
    [InlineData("192.0.2.10", true)]             // documentation: TEST-NET-1, -2, -3
    [InlineData("198.51.100.7", true)]
    [InlineData("203.0.113.200", true)]
    [InlineData("192.0.3.1", false)]             // beside them
    [InlineData("198.51.101.1", false)]
    [InlineData("203.0.112.255", false)]
    [InlineData("198.18.0.1", true)]             // benchmarking, 198.18/15
    [InlineData("198.19.255.254", true)]
    [InlineData("198.17.255.255", false)]
    [InlineData("198.20.0.1", false)]
    [InlineData("[ff02::1]", true)]              // IPv6 multicast
    [InlineData("[2001:db8::1]", true)]          // IPv6 documentation
    [InlineData("[2001:db9::1]", false)]
    [InlineData("[::ffff:224.0.0.1]", true)]     // mapped multicast: judged as its IPv4
    [InlineData("[64:ff9b::10.0.0.1]", true)]    // NAT64's well-known prefix: the gateway sends it to 10.0.0.1
    [InlineData("[64:ff9b::7f00:1]", true)]      // 127.0.0.1 in hex
    [InlineData("[64:ff9b::8.8.8.8]", false)]
    [InlineData("[64:ff9b:1::10.0.0.1]", false)] // not the well-known prefix (RFC 8215's local-use one is not read)
    public void TellsTheHostsMetaCannotReach(string host, bool unreachable)
    {
        Assert.Equal(unreachable, PrivateFileHosts.Unreachable(host) is not null);
    }

    [Fact]
    public void AHostIsRequired() => Assert.Throws<ArgumentNullException>(() => PrivateFileHosts.Unreachable(null!));

    [Theory]
    [InlineData("localhost", "a localhost name, which is this machine")]
    [InlineData("files.localhost", "a localhost name, which is this machine")]
    [InlineData("0.1.2.3", "an address of 0.0.0.0/8 (\"this network\"), which is not routed")]
    [InlineData("127.0.0.1", "a loopback address, which is this machine")]
    [InlineData("172.16.0.1", "a private network address")]
    [InlineData("169.254.169.254", "a link-local address")]
    [InlineData("100.64.0.1", "a carrier-grade NAT (shared) address")]
    [InlineData("[::]", "the unspecified address ::")]        // IPv6's own, not ::0.0.0.0
    [InlineData("[::1]", "a loopback address, which is this machine")] // nor ::0.0.0.1
    [InlineData("[fd12:3456:789a::1]", "a unique-local (private) address")]
    [InlineData("[fe80::1]", "a link-local address")]
    [InlineData("[::ffff:127.0.0.1]", "a loopback address, which is this machine")]
    [InlineData("[::10.0.0.1]", "a private network address")]
    [InlineData("239.1.2.3", "a multicast address, which names a group, not a server")]
    [InlineData("[ff05::2]", "a multicast address, which names a group, not a server")]
    [InlineData("255.255.255.255", "a reserved address of 240.0.0.0/4 (the broadcast address included), which is not routed")]
    [InlineData("203.0.113.5", "an address reserved for documentation, which is not routed")]
    [InlineData("[2001:db8:85a3::8a2e:370:7334]", "an address reserved for documentation, which is not routed")]
    [InlineData("198.18.0.1", "an address reserved for network benchmarks, which is not routed")]
    [InlineData("[64:ff9b::192.168.0.1]", "a private network address")]
    public void NamesWhyMetaCannotReachTheHost(string host, string why)
    {
        // The caller reads this in the refusal ("media_url points at …, {why}: …").
        Assert.Equal(why, PrivateFileHosts.Unreachable(host));
    }

    [Theory]
    [InlineData("http://localhost/invoice.pdf", "localhost")]
    [InlineData("http://localhost:8080/invoice.pdf", "localhost")]
    [InlineData("https://192.168.1.20/files/invoice.pdf", "192.168.1.20")]
    [InlineData("http://[::1]:5080/invoice.pdf", "[::1]")]
    [InlineData("http://[::ffff:10.0.0.1]/invoice.pdf", "10.0.0.1")]
    [InlineData("http://2130706433/invoice.pdf", "127.0.0.1")] // a loopback address written as one number
    [InlineData("http://0x7f.1/invoice.pdf", "127.0.0.1")]     // in hex, with parts left out
    [InlineData("http://10.0.0.1./invoice.pdf", "10.0.0.1.")]  // with a trailing dot
    [InlineData("https://203.0.113.10/invoice.pdf", "203.0.113.10")] // a documentation example's address, copied
    [InlineData("http://[64:ff9b::a00:1]/invoice.pdf", "[64:ff9b::a00:1]")] // NAT64 to 10.0.0.1
    [InlineData("http://4294967295/invoice.pdf", "255.255.255.255")] // broadcast written as one number
    [InlineData("http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/invoice.pdf", "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54")] // fullwidth: localhost to a URL parser
    [InlineData("http://127\u30020\u30020\u30021/invoice.pdf", "127\u30020\u30020\u30021")] // ideographic full stops: 127.0.0.1
    [InlineData("http://127\uff610\uff610\uff611/invoice.pdf", "127\uff610\uff610\uff611")] // halfwidth ideographic full stops: 127.0.0.1
    [InlineData("http://\uff12\uff11\uff13\uff10\uff17\uff10\uff16\uff14\uff13\uff13/invoice.pdf", "\uff12\uff11\uff13\uff10\uff17\uff10\uff16\uff14\uff13\uff13")] // 2130706433 is 127.0.0.1
    [InlineData("http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/invoice.pdf", "\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3")] // circled letters: localhost to IDNA with ICU (no fullwidth form in it)
    [InlineData("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/invoice.pdf", "\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11")] // fullwidth digits and stops: 127.0.0.1
    [InlineData("http://\uff11\uff10\u30020\u30020\u30021/invoice.pdf", "\uff11\uff10\u30020\u30020\u30021")] // both: 10.0.0.1
    [InlineData("http://\uff2c\uff2f\uff23\uff21\uff2c\uff28\uff2f\uff33\uff34/invoice.pdf", "\uff2c\uff2f\uff23\uff21\uff2c\uff28\uff2f\uff33\uff34")] // fullwidth capitals: LOCALHOST
    public async Task SendMediaRefusesAFileMetaCannotReachNamingMediaUrl(string url, string shownHost)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var refused = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = url })).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");

        Assert.Equal("media_url", refused.GetProperty("field").GetString());
        var error = refused.GetProperty("error").GetString()!;
        Assert.Contains(shownHost, error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Meta's servers download the file from the internet and cannot reach that address", error, StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == tenant.BusinessId))); // never sent
    }

    [Theory]
    [InlineData("https://example.com/invoice-123.pdf")]
    [InlineData("http://93.184.215.14/invoice.pdf")]
    [InlineData("https://localhost.example.com/invoice.pdf")]
    public async Task SendMediaTakesPublicHosts(string url)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = url })).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AMediaHeadersFileMetaCannotReachIsRefusedNamingTheHeaderParam()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            var wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId;
            db.Templates.Add(new TwaBot.Api.Templates.Template
            {
                BusinessId = tenant.BusinessId, Name = "catalogue_photo", Language = "en", Content = "Hi {{1}}, have a look.", Category = "MARKETING",
                Status = "APPROVED", HeaderType = "image", MetaTemplateId = "8801", UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            });
            db.SandboxTemplates.Add(new TwaBot.Api.Sandbox.SandboxTemplate
            {
                WabaId = wabaId, MetaId = "8801", Name = "catalogue_photo", Language = "en", Category = "MARKETING", Status = "APPROVED", Body = "Hi {{1}}, have a look.",
            });
            await db.SaveChangesAsync();
        });

        Task<HttpResponseMessage> Send(string url) => tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "catalogue_photo", body_params = new[] { "Rahul" }, header_params = new[] { url } });

        var refused = await (await Send("http://10.1.2.3/p.jpg")).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("header_params[0]", refused.GetProperty("field").GetString());
        Assert.Contains("cannot reach that address", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        await (await Send("https://cdn.example.com/p.jpg")).ReadJsonAsync(HttpStatusCode.OK);
    }
}
