using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwaBot.Api.Json;

/// <summary>
/// A PATCH field: absent (leave as is), or present with a value that may be null (clear it).
/// A plain nullable cannot tell "not sent" from "sent as null".
/// </summary>
[JsonConverter(typeof(PatchFieldConverterFactory))]
public readonly record struct PatchField<T>(bool IsSet, T? Value);

public sealed class PatchFieldConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(PatchField<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(PatchFieldConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class PatchFieldConverter<T> : JsonConverter<PatchField<T>>
    {
        public override bool HandleNull => true;

        public override PatchField<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new PatchField<T>(true, reader.TokenType == JsonTokenType.Null ? default : JsonSerializer.Deserialize<T>(ref reader, options));

        public override void Write(Utf8JsonWriter writer, PatchField<T> value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            JsonSerializer.Serialize(writer, value.Value, options);
        }
    }
}
