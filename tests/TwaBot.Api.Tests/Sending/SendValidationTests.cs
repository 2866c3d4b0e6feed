using TwaBot.Api.Sending;

namespace TwaBot.Api.Tests.Sending;

public class SendValidationTests
{
    [Theory]
    [InlineData(null, "order_confirmation", null, "phone", "VALIDATION_FAILED")]
    [InlineData("98765", "order_confirmation", null, "phone", "INVALID_PHONE")]
    [InlineData("9876543210", null, null, "template_name", "VALIDATION_FAILED")]
    [InlineData("9876543210", "  ", null, "template_name", "VALIDATION_FAILED")]
    [InlineData("9876543210", "order_confirmation", "English", "language", "VALIDATION_FAILED")]
    public void TemplateRequestsNameTheWrongField(string? phone, string? template, string? language, string field, string code)
    {
        var error = SendValidation.Template(new SendTemplateRequest(phone, template, language, null, null)).Error;

        Assert.NotNull(error);
        Assert.Equal(field, error.Body.Field);
        Assert.Equal(code, error.Body.ErrorCode);
    }

    [Theory] // Meta's codes are case-sensitive; a code written in other case is refused naming the one meant
    [InlineData("EN", "language codes are case-sensitive: write en.")]
    [InlineData("en_us", "language codes are case-sensitive: write en_US.")]
    [InlineData("PT-br", "language codes are case-sensitive: write pt_BR.")]
    [InlineData("English", "such as en, en_US or pt_BR.")]
    public void ALanguageCodeInTheWrongCaseIsRefusedNamingTheCodeMeant(string language, string says)
    {
        var error = SendValidation.Template(new SendTemplateRequest("9876543210", "t", language, null, null)).Error;

        Assert.Equal("language", error?.Body.Field);
        Assert.EndsWith(says, error?.Body.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AValidTemplateRequestIsNormalizedWithDefaults()
    {
        var content = Assert.IsType<TemplateContent>(
            SendValidation.Template(new SendTemplateRequest("+91 98765 43210", "order_confirmation", null, ["Rahul"], null)).Value);

        Assert.Equal("919876543210", content.Phone);
        Assert.Equal("en", content.Language);
        Assert.Equal(["Rahul"], content.BodyParams);
        Assert.Empty(content.HeaderParams);
    }

    [Fact]
    public void EmptyTemplateParametersAreRefusedByIndex()
    {
        var error = SendValidation.Template(new SendTemplateRequest("9876543210", "t", null, ["Rahul", ""], null)).Error;

        Assert.Equal("body_params[1]", error?.Body.Field);
        Assert.Contains("body_params[1]", error?.Body.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a", 4096, true)]
    [InlineData("a", 4097, false)]
    [InlineData("😀", 4096, true)]  // 8,192 UTF-16 units, 4,096 characters
    [InlineData("😀", 4097, false)]
    [InlineData("न", 4096, true)]
    [InlineData("🇮🇳", 2048, true)]  // a flag is two code points: 4,096 characters, though a reader sees 2,048 flags
    [InlineData("🇮🇳", 2049, false)]
    public void TextIsAtMost4096Characters(string character, int count, bool valid)
    {
        var result = SendValidation.Text(new SendTextRequest("9876543210", string.Concat(Enumerable.Repeat(character, count))));

        Assert.Equal(valid, result.Error is null);
        Assert.Equal(valid ? null : "message", result.Error?.Body.Field);
    }

    [Fact]
    public void ATextIsSentAsWrittenWithItsIndentsAndLineBreaks()
    {
        // A list or a signature may begin or end a message: only a blank one is refused, nothing is trimmed off.
        const string text = "  • Item one\n  • Item two\n\n";

        var content = Assert.IsType<TextContent>(SendValidation.Text(new SendTextRequest("9876543210", text)).Value);

        Assert.Equal(text, content.Text);
    }

    [Theory]
    [InlineData("body_params", "😀", 1024, true)]
    [InlineData("body_params", "😀", 1025, false)]
    [InlineData("body_params", "a", 1025, false)]
    [InlineData("caption", "😀", 1024, true)]
    [InlineData("caption", "😀", 1025, false)]
    [InlineData("caption", "a", 1025, false)]
    public void ParametersAndCaptionsAreAtMost1024Characters(string field, string character, int count, bool valid)
    {
        var text = string.Concat(Enumerable.Repeat(character, count));

        var error = field == "caption"
            ? SendValidation.Media(new SendMediaRequest("9876543210", "image", "https://example.com/a.jpg", text, null)).Error
            : SendValidation.Template(new SendTemplateRequest("9876543210", "t", null, [text], null)).Error;

        Assert.Equal(valid ? null : field == "caption" ? field : field + "[0]", error?.Body.Field);
    }

    [Theory]
    [InlineData("Rahul Kumar", true)]
    [InlineData("a    b", true)]    // four spaces in a row are allowed
    [InlineData("a     b", false)]  // five are not
    [InlineData("Rahul\nKumar", false)]
    [InlineData("Rahul\r\nKumar", false)]
    [InlineData("Rahul\rKumar", false)]
    [InlineData("Rahul\tKumar", false)]
    [InlineData("₹1,499", true)]
    public void TemplateParametersRefuseLineBreaksTabsAndLongRunsOfSpaces(string parameter, bool valid)
    {
        var body = SendValidation.Template(new SendTemplateRequest("9876543210", "t", null, ["Rahul", parameter], null)).Error;
        var header = SendValidation.Template(new SendTemplateRequest("9876543210", "t", null, null, [parameter])).Error;
        var quickSend = SendValidation.QuickSend(new QuickSendQuery("9876543210", "t", null, "Rahul," + parameter, null)).Error;

        Assert.Equal(valid ? null : "body_params[1]", body?.Body.Field);
        Assert.Equal(valid ? null : "header_params[0]", header?.Body.Field);
        Assert.Equal(valid ? null : "params[1]", quickSend?.Body.Field);
        if (!valid)
        {
            Assert.Contains("body_params[1]", body!.Body.Error, StringComparison.Ordinal);
            Assert.Contains("header_params[0]", header!.Body.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("image", "https://example.com/a.jpg", null)]
    [InlineData("DOCUMENT", "http://example.com/invoice.pdf", null)]
    [InlineData("video", "https://example.com/v.mp4", null)]
    [InlineData(" video\n", "https://example.com/v.mp4", null)] // a form's padding around the type is not part of it
    [InlineData("audio", "https://example.com/a.ogg", null)]
    [InlineData("sticker", "https://example.com/s.webp", "media_type")]
    [InlineData(null, "https://example.com/a.jpg", "media_type")]
    [InlineData("image", "/relative/a.jpg", "media_url")]
    [InlineData("image", "ftp://example.com/a.jpg", "media_url")]
    [InlineData("image", "file:///etc/passwd", "media_url")]
    [InlineData("image", null, "media_url")]
    public void MediaNeedsAKnownTypeAndAnAbsoluteHttpUrl(string? type, string? url, string? failingField)
    {
        var result = SendValidation.Media(new SendMediaRequest("9876543210", type, url, null, null));

        Assert.Equal(failingField, result.Error?.Body.Field);
    }

    [Theory] // a media_type written as the file's kind is answered with WhatsApp's type for it
    [InlineData("pdf", " (a pdf file is sent as \"document\")")]
    [InlineData("JPG", " (a JPG file is sent as \"image\")")]
    [InlineData(" mp4 ", " (a mp4 file is sent as \"video\")")]
    [InlineData("voice", " (a voice file is sent as \"audio\")")]
    [InlineData("sticker", "")]
    [InlineData(null, "")]
    public void AMediaTypeWrittenAsTheFilesKindIsToldWhatToWrite(string? type, string named)
    {
        var result = SendValidation.Media(new SendMediaRequest("9876543210", type, "https://example.com/a", null, null));

        Assert.Equal($"media_type is required and must be one of: image, document, video, audio{named}.", result.Error?.Body.Error);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("4829", true)]
    [InlineData("48", false)]
    [InlineData("48a913", false)]
    [InlineData("482913482913482", true)]   // 15 digits: Meta's longest code
    [InlineData("4829134829134829", false)]
    [InlineData("\u0664\u0668\u0662\u0669", false)] // Arabic-Indic digits: digits, but not the ASCII ones Meta's code takes
    public void OtpCodesAreGeneratedOrFourToFifteenDigits(string? otp, bool valid)
    {
        var result = SendValidation.Otp(new SendOtpRequest("9876543210", "otp_verification", otp, null));

        Assert.Equal(valid, result.Error is null);
        if (valid)
        {
            var content = Assert.IsType<OtpContent>(result.Value);
            Assert.Equal(otp ?? content.Code, content.Code);
            Assert.True(OtpCode.IsValid(content.Code));
        }
        else
        {
            Assert.Equal("otp", result.Error?.Body.Field);
        }
    }

    [Fact]
    public void GeneratedCodesAreSixDigitsDrawnFromAllTen()
    {
        var codes = Enumerable.Range(0, 200).Select(_ => OtpCode.Generate()).ToArray();

        Assert.All(codes, code => Assert.Matches("^[0-9]{6}$", code));
        // 1,200 digits: the chance that a fair draw misses one of the ten is below 10^-50.
        Assert.Equal("0123456789", string.Concat(codes.SelectMany(code => code).Distinct().Order()));
    }

    [Fact]
    public void QuickSendWithATemplateSplitsItsParams()
    {
        var content = Assert.IsType<TemplateContent>(SendValidation.QuickSend(
            new QuickSendQuery("919876543210", "order_confirmation", "en", @"Rahul,ORD-12345,₹1\,499", null)).Value);

        Assert.Equal(["Rahul", "ORD-12345", "₹1,499"], content.BodyParams);
    }

    [Fact]
    public void QuickSendWithAMessageIsText()
    {
        var content = Assert.IsType<TextContent>(SendValidation.QuickSend(
            new QuickSendQuery("919876543210", null, null, null, "Your order has been shipped")).Value);

        Assert.Equal("Your order has been shipped", content.Text);
    }

    [Fact]
    public void QuickSendWithNeitherNamesMessage()
    {
        var error = SendValidation.QuickSend(new QuickSendQuery("919876543210", null, null, null, null)).Error;

        Assert.Equal("message", error?.Body.Field);
    }

    [Fact]
    public void AMediaUrlGoesToMetaAsWrittenAndEmptyOptionalFieldsAreLeftOut()
    {
        // Uri's normal form would decode %41 and drop "/../", which can break a signed URL.
        var content = Assert.IsType<MediaContent>(SendValidation.Media(
            new SendMediaRequest("9876543210", "document", " https://cdn.example.com/a/../%41.pdf?sig=x%2By ", "", " ")).Value);

        Assert.Equal("https://cdn.example.com/a/../%41.pdf?sig=x%2By", content.MediaUrl);
        Assert.Null(content.Caption);
        Assert.Null(content.Filename);
    }

    [Theory] // a form tool's zero-width space or direction mark is no caption and no file name: left out, as an empty one is
    [InlineData("\u200b")]
    [InlineData("\u200e ")]
    public void ACaptionOrFilenameOfOnlyInvisibleCharactersIsLeftOut(string blank)
    {
        var content = Assert.IsType<MediaContent>(SendValidation.Media(
            new SendMediaRequest("9876543210", "document", "https://example.com/a.pdf", blank, blank)).Value);

        Assert.Null(content.Caption);
        Assert.Null(content.Filename);
    }

    [Fact]
    public void NoBodyIsRefusedForEveryEndpoint()
    {
        Assert.All(
            [SendValidation.Template(null).Error, SendValidation.Text(null).Error, SendValidation.Media(null).Error, SendValidation.Otp(null).Error],
            error => Assert.Equal((400, "VALIDATION_FAILED", "A JSON request body is required."), (error?.StatusCode, error?.Body.ErrorCode, error?.Body.Error)));
    }

    public static TheoryData<string, string, string> WrongFields => new()
    {
        // A badly formed number is INVALID_PHONE on "phone" at every endpoint.
        { "text", "phone", "INVALID_PHONE" },
        { "media", "phone", "INVALID_PHONE" },
        { "quick-send message", "phone", "INVALID_PHONE" },
        // quick-send without a phone says it is missing before the template is looked at (a malformed query, such as a
        // parameter given twice, is reported before either).
        { "quick-send no phone", "phone", "VALIDATION_FAILED" },
        { "quick-send message control character", "message", "VALIDATION_FAILED" },
        { "caption control character", "caption", "VALIDATION_FAILED" },
        { "filename 241", "filename", "VALIDATION_FAILED" },
        { "31 body_params", "body_params", "VALIDATION_FAILED" },
        { "template_name 513", "template_name", "VALIDATION_FAILED" },
    };

    [Theory]
    [MemberData(nameof(WrongFields))]
    public void EachRefusalNamesItsField(string request, string field, string code)
    {
        var error = request switch
        {
            "text" => SendValidation.Text(new SendTextRequest("98765", "hi")).Error,
            "media" => SendValidation.Media(new SendMediaRequest("98765", "image", "https://example.com/a.jpg", null, null)).Error,
            "quick-send message" => SendValidation.QuickSend(new QuickSendQuery("98765", null, null, null, "hi")).Error,
            "quick-send no phone" => SendValidation.QuickSend(new QuickSendQuery(null, "order_confirmation", null, null, null)).Error,
            "quick-send message control character" => SendValidation.QuickSend(new QuickSendQuery("919876543210", null, null, null, "a\u0000b")).Error,
            "caption control character" => SendValidation.Media(new SendMediaRequest("9876543210", "image", "https://example.com/a.jpg", "Hi\u000bthere", null)).Error,
            "filename 241" => SendValidation.Media(new SendMediaRequest("9876543210", "document", "https://example.com/a.pdf", null, new string('a', 237) + ".pdf")).Error,
            "31 body_params" => SendValidation.Template(new SendTemplateRequest("9876543210", "t", null, [.. Enumerable.Repeat("x", 31)], null)).Error,
            "template_name 513" => SendValidation.Template(new SendTemplateRequest("9876543210", new string('t', 513), null, null, null)).Error,
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };

        Assert.NotNull(error);
        Assert.Equal((field, code), (error.Body.Field, error.Body.ErrorCode));
    }

    [Fact]
    public void TheLimitsThemselvesAreAccepted()
    {
        Assert.Null(SendValidation.Media(new SendMediaRequest("9876543210", "document", "https://example.com/a.pdf", null, new string('a', 236) + ".pdf")).Error);
        Assert.Null(SendValidation.Template(new SendTemplateRequest("9876543210", "t", null, [.. Enumerable.Repeat("x", 30)], null)).Error);
        Assert.Null(SendValidation.Template(new SendTemplateRequest("9876543210", new string('t', 512), null, null, null)).Error);
        Assert.Null(SendValidation.Template(new SendTemplateRequest("9876543210", $" {new string('t', 512)}\n", null, null, null)).Error); // the name is the trimmed one
    }

    [Theory]
    [InlineData("media_type", "one of: image, document, video, audio")]
    [InlineData("caption", "at most 1024 characters")]
    [InlineData("otp", "4 to 15 digits")]
    [InlineData("text", "at most 4096 characters (got 4097)")]
    [InlineData("language", "such as en, en_US or pt_BR")]
    [InlineData("template_name", "template_name is required")]
    [InlineData("phone", "phone is required")]
    [InlineData("quick-send", "template or message is required")]
    [InlineData("quick-send blank", "template or message is required")] // message=+ is no message: both choices named, as when it is absent
    [InlineData("params", "params may have at most 30 values")]
    public void TheErrorSaysWhatIsAllowed(string request, string says)
    {
        var error = request switch
        {
            "media_type" => SendValidation.Media(new SendMediaRequest("9876543210", "sticker", "https://example.com/a.webp", null, null)).Error,
            "caption" => SendValidation.Media(new SendMediaRequest("9876543210", "image", "https://example.com/a.jpg", new string('a', 1025), null)).Error,
            "otp" => SendValidation.Otp(new SendOtpRequest("9876543210", "otp_verification", "12", null)).Error,
            "text" => SendValidation.Text(new SendTextRequest("9876543210", new string('a', 4097))).Error,
            "language" => SendValidation.Template(new SendTemplateRequest("9876543210", "t", "English", null, null)).Error,
            "template_name" => SendValidation.Template(new SendTemplateRequest("9876543210", null, null, null, null)).Error,
            "phone" => SendValidation.Text(new SendTextRequest(" ", "hi")).Error,
            "quick-send" => SendValidation.QuickSend(new QuickSendQuery("919876543210", null, null, null, null)).Error,
            "quick-send blank" => SendValidation.QuickSend(new QuickSendQuery("919876543210", null, null, null, "  ")).Error,
            "params" => SendValidation.QuickSend(new QuickSendQuery("919876543210", "t", null, string.Join(',', Enumerable.Repeat("x", 31)), null)).Error,
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };

        Assert.Contains(says, error?.Body.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Line one\nLine two")]
    [InlineData("Line one\r\nLine two")]
    [InlineData("Line one\rLine two")]
    [InlineData("Name:\tRahul")]
    public void TextAndCaptionsMayHoldLineBreaksAndTabs(string text)
    {
        var message = Assert.IsType<TextContent>(SendValidation.Text(new SendTextRequest("9876543210", text)).Value);
        var media = Assert.IsType<MediaContent>(SendValidation.Media(new SendMediaRequest("9876543210", "image", "https://example.com/a.jpg", text, null)).Value);

        Assert.Equal(text, message.Text);
        Assert.Equal(text, media.Caption);
    }

    [Theory]
    [InlineData("\u0000", "U+0000 at position 1")]            // the first character
    [InlineData("Hi\u000bthere", "U+000B at position 3")]     // vertical tab
    [InlineData("Hi\u000cthere", "U+000C at position 3")]     // form feed
    [InlineData("Hi\u007f", "U+007F at position 3")]          // DEL
    [InlineData("Hi\u0085there", "U+0085 at position 3")]     // C1 next line
    [InlineData("Hi\u009fthere", "U+009F at position 3")]     // the last C1 control
    public void ControlCharactersInTextAreRefusedWhereTheyAre(string text, string says)
    {
        var error = SendValidation.Text(new SendTextRequest("9876543210", text)).Error;

        Assert.Equal("message", error?.Body.Field);
        Assert.Contains(says, error?.Body.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://example.com/a\u0001.jpg")]    // Uri accepts these; a control character is never part of a file's address
    [InlineData("https://example.com/a.jpg?x=\u007f")]
    [InlineData("https://example.com/a\u0090.jpg")]
    [InlineData("https://example.com/a\u00ad.jpg")]   // a soft hyphen: invisible, not a control character
    [InlineData("https://example.com/a\t.jpg")]
    public void AMediaUrlWithControlOrInvisibleCharactersIsRefused(string url)
    {
        Assert.False(SendValidation.IsFileUrl(url));
        Assert.Equal("media_url", SendValidation.Media(new SendMediaRequest("9876543210", "image", url, null, null)).Error?.Body.Field);
    }

    public static TheoryData<string, bool, string?> HeaderParameterLengths => new()
    {
        // A header's media value is a (long, signed) file URL: up to 4096 characters; anything else 1024.
        { "https://cdn.example.com/" + new string('a', 4096 - 24), true, null },
        { "https://cdn.example.com/" + new string('a', 4097 - 24), true, "header_params[0]" },
        { "https://cdn.example.com/" + new string('a', 2000), false, "body_params[0]" },
        { new string('a', 1025), true, "header_params[0]" },
        { "cdn.example.com/" + new string('a', 2000), true, "header_params[0]" },  // not an absolute URL
    };

    [Theory]
    [MemberData(nameof(HeaderParameterLengths))]
    public void OnlyAHeaderFileUrlMayBeLongerThan1024Characters(string value, bool inHeader, string? failingField)
    {
        var request = inHeader
            ? new SendTemplateRequest("9876543210", "t", null, null, [value])
            : new SendTemplateRequest("9876543210", "t", null, [value], null);

        var error = SendValidation.Template(request).Error;

        Assert.Equal(failingField, error?.Body.Field);
        if (failingField is not null)
        {
            Assert.Contains(value.StartsWith("https", StringComparison.Ordinal) && inHeader ? "at most 4096" : "at most 1024", error?.Body.Error, StringComparison.Ordinal);
        }
    }

    [Theory] // PRODUCT §1: the first failing check answers, in the docs' order of the fields; the phone's format last
    [InlineData(" ", " ", "English", "", "", "", "phone")]
    [InlineData("98765", " ", "English", "", "", "", "template_name")]
    [InlineData("98765", "t", "English", "", "", "", "language")]
    [InlineData("98765", "t", "en", "", "", "", "body_params[0]")]
    [InlineData("98765", "t", "en", "a", "", "", "header_params[0]")]
    [InlineData("98765", "t", "en", "a", "b", "", "button_params[0]")]
    [InlineData("98765", "t", "en", "a", "b", "c", "phone")]
    public void TemplateRequestsNameTheFirstWrongFieldInTheDocsOrder(
        string phone, string template, string language, string body, string header, string button, string field)
    {
        var error = SendValidation.Template(new SendTemplateRequest(phone, template, language, [body], [header], [button])).Error;

        Assert.Equal(field, error?.Body.Field);
    }

    [Theory]
    [InlineData(null, null, null, null, "phone")]                      // phone is asked for first
    [InlineData("9876543210", null, null, null, "template_name")]
    [InlineData("98765", null, null, null, "template_name")]         // a missing field before a malformed number
    [InlineData("98765", "otp_verification", "12", null, "otp")]
    [InlineData("98765", "otp_verification", null, "English", "language")]
    [InlineData("9876543210", "otp_verification", "12", "English", "otp")]   // the docs' order: otp, then language
    [InlineData("98765", "otp_verification", null, null, "phone")]
    public void OtpRequestsNameTheFirstWrongFieldInTheDocsOrder(string? phone, string? template, string? otp, string? language, string field)
    {
        var error = SendValidation.Otp(new SendOtpRequest(phone, template, otp, language)).Error;

        Assert.Equal(field, error?.Body.Field);
    }

    [Theory]
    [InlineData(null, "en")]
    [InlineData("", "en")]
    [InlineData(" ", "en")]
    [InlineData("pt_BR", "pt_BR")]
    [InlineData(" en_US ", "en_US")]
    public void TheLanguageIsTheOneGivenOrEnglish(string? language, string expected)
    {
        var template = Assert.IsType<TemplateContent>(SendValidation.Template(new SendTemplateRequest("9876543210", "t", language, null, null)).Value);
        var otp = Assert.IsType<OtpContent>(SendValidation.Otp(new SendOtpRequest("9876543210", "otp_verification", null, language)).Value);
        var quickSend = Assert.IsType<TemplateContent>(SendValidation.QuickSend(new QuickSendQuery("9876543210", "t", language, null, null)).Value);

        Assert.Equal((expected, expected, expected), (template.Language, otp.Language, quickSend.Language));
    }

    [Fact]
    public void TemplateParametersThatAreLeftOutAreEmptyAndHeaderParametersAreKept()
    {
        var content = Assert.IsType<TemplateContent>(SendValidation.Template(
            new SendTemplateRequest("9876543210", "t", null, null, ["https://example.com/invoice.pdf"])).Value);

        Assert.NotNull(content.BodyParams);
        Assert.Empty(content.BodyParams);
        Assert.Equal(["https://example.com/invoice.pdf"], content.HeaderParams);
    }

    public static TheoryData<string, string, string> MoreWrongFields => new()
    {
        { "media no phone", "phone", "VALIDATION_FAILED" },
        { "quick-send template bad phone", "phone", "INVALID_PHONE" },
        { "quick-send template 513", "template", "VALIDATION_FAILED" },
        { "quick-send lang", "lang", "VALIDATION_FAILED" },
        { "quick-send template given twice, no phone", "template", "VALIDATION_FAILED" },  // a malformed query is named first
    };

    [Theory]
    [MemberData(nameof(MoreWrongFields))]
    public void EachQuickSendAndMediaRefusalNamesItsField(string request, string field, string code)
    {
        var error = request switch
        {
            "media no phone" => SendValidation.Media(new SendMediaRequest(null, "image", "https://example.com/a.jpg", null, null)).Error,
            "quick-send template bad phone" => SendValidation.QuickSend(new QuickSendQuery("98765", "order_confirmation", null, null, null)).Error,
            "quick-send template 513" => SendValidation.QuickSend(new QuickSendQuery("919876543210", new string('t', 513), null, null, null)).Error,
            "quick-send lang" => SendValidation.QuickSend(new QuickSendQuery("919876543210", "order_confirmation", "English", null, null)).Error,
            "quick-send template given twice, no phone" => SendValidation.QuickSend(QuickSendQuery.Parse("template=a&template=b")).Error,
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };

        Assert.NotNull(error);
        Assert.Equal((field, code), (error.Body.Field, error.Body.ErrorCode));
    }

    [Theory]
    [InlineData("filename", "filename must be at most 240 characters")]
    [InlineData("template_name", "template_name must be at most 512 characters")]
    public void TheErrorSaysWhatTheLimitIs(string request, string says)
    {
        var error = request switch
        {
            "filename" => SendValidation.Media(new SendMediaRequest("9876543210", "document", "https://example.com/a.pdf", null, new string('a', 241))).Error,
            "template_name" => SendValidation.Template(new SendTemplateRequest("9876543210", new string('t', 513), null, null, null)).Error,
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };

        Assert.Contains(says, error?.Body.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void NullIsAnArgumentErrorNotANullReference()
    {
        Assert.Throws<ArgumentNullException>(() => SendValidation.QuickSend(null!));
        Assert.Throws<ArgumentNullException>(() => SendValidation.Characters(null!));
    }
}
