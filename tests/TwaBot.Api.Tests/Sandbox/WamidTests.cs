using TwaBot.Api.Sandbox;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>The emulator's message ids carry the struct real wamids encode (meta-cloud-api.md §7), so they look and sort like Meta's.</summary>
public class WamidTests
{
    [Theory]
    [InlineData(true, "16505551234", 0x11, 18)]   // sent by the business: fromMe true, a key of 9 random bytes in hex
    [InlineData(true, "5511987654321", 0x11, 18)]
    [InlineData(false, "919876543210", 0x12, 20)] // written by the customer: fromMe false, 10 bytes
    public void AWamidEncodesTheCustomerTheDirectionAndAnUppercaseHexKey(bool outbound, string phone, byte direction, int keyLength)
    {
        var wamid = outbound ? Wamid.Outbound(phone) : Wamid.Inbound(phone);

        Assert.StartsWith("wamid.HBg", wamid, StringComparison.Ordinal);
        var bytes = Convert.FromBase64String(wamid["wamid.".Length..]);
        byte[] chat = [0x1C, 0x18, (byte)phone.Length, .. System.Text.Encoding.ASCII.GetBytes(phone), 0x15, 0x02, 0x00];
        Assert.Equal(chat, bytes[..chat.Length]);
        Assert.Equal([direction, 0x18, (byte)keyLength], bytes[chat.Length..(chat.Length + 3)]);
        var key = System.Text.Encoding.ASCII.GetString(bytes, chat.Length + 3, keyLength);
        Assert.Matches("^[0-9A-F]+$", key);
        Assert.Equal(chat.Length + 3 + keyLength + 1, bytes.Length); // the struct's end marker, then nothing
        Assert.Equal(0x00, bytes[^1]);
    }

    [Fact]
    public void TwoSendsToOneNumberGetTwoIds() => Assert.NotEqual(Wamid.Outbound("919876543210"), Wamid.Outbound("919876543210"));
}
