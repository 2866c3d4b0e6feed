using System.Text;
using TwaBot.Api.Sending.Idempotency;

namespace TwaBot.Api.Tests.Sending;

/// <summary>Two spellings of one JSON request read the same to an Idempotency-Key; two different requests never do.</summary>
public class CanonicalJsonTests
{
    [Theory]
    [InlineData("""{"phone":"919876543210","template_name":"otp"}""", """{ "template_name" : "otp",  "phone":"919876543210" }""")]
    [InlineData("""{"body_params":["Rahul","₹1,499"]}""", "{\r\n\t\"body_params\": [ \"Rahul\", \"\\u20b91,499\" ]\r\n}")]
    [InlineData("""{"text":"é \"q\" / <b>"}""", """{"text":"\u00e9 \"q\" \/ \u003cb\u003e"}""")]
    [InlineData("""{"a":{"y":1,"x":[true,null]}}""", """{"a":{"x":[true,null],"y":1}}""")]
    [InlineData("\uFEFF{\"phone\":\"1\"}", """{"phone":"1"}""")]
    [InlineData("""{"a":1,"A":2}""", """{"A":2,"a":1}""")] // names differing only in case are two names, each in its one place
    [InlineData("""{"caption":null,"a":{"b":null,"c":[null]}}""", """{"a":{"c":[null]}}""")] // a null member is absent, as a send reads it
    public void SpellingsOfOneRequestReadTheSame(string first, string retry) =>
        Assert.Equal(Of(first), Of(retry));

    [Theory]
    [InlineData("""{"body_params":["a","b"]}""", """{"body_params":["b","a"]}""")] // an array's order is its meaning
    [InlineData("""{"text":"hi"}""", """{"text":"hi "}""")]
    [InlineData("""{"text":"hi"}""", """{"Text":"hi"}""")]
    [InlineData("""{"otp":"1234"}""", """{"otp":1234}""")]
    [InlineData("""{"n":1}""", """{"n":1.0}""")]
    [InlineData("""{"a":[null]}""", """{"a":[]}""")] // a null in an array holds a place
    [InlineData("""{"a":"b","c":"d"}""", """{"a":"bc","":"d"}""")]
    [InlineData("""{"text":"\u00e9"}""", """{"text":"e\u0301"}""")] // é, and e with a combining accent: two texts Meta is sent as they are
    public void DifferentRequestsStayDifferent(string first, string second) =>
        Assert.NotEqual(Of(first), Of(second));

    [Theory] // the form itself, not only its sameness: keys stored by an earlier version are compared with it after an upgrade
    [InlineData("""{ "b" : [ {"y":2,"x":null}, [ ] ], "a" : {} , "c":"\u00e9" }""", """{"a":{},"b":[{"y":2},[]],"c":"é"}""")]
    [InlineData("""{"a":[["x"]],"B":true}""", """{"B":true,"a":[["x"]]}""")]
    [InlineData("""[1.0, null, "<b>"]""", """[1.0,null,"<b>"]""")]
    public void TheCanonicalFormIsCompactSortedAndWithoutNullMembers(string json, string canonical) =>
        Assert.Equal(canonical, Of(json));

    [Theory] // the form versions before 2026-12-06 kept: the same but for its null members, at every depth
    [InlineData("""{ "caption" : null, "a" : {"c":[null], "b":null} }""", """{"a":{"b":null,"c":[null]},"caption":null}""")]
    [InlineData("""[{"x":null}]""", """[{"x":null}]""")]
    public void TheEarlierFormKeptNullMembers(string json, string canonical) =>
        Assert.Equal(canonical, Encoding.UTF8.GetString(CanonicalJson.Of(Encoding.UTF8.GetBytes(json), keepNullMembers: true)!));

    [Theory]
    [InlineData("")]
    [InlineData("{\"phone\":")]
    [InlineData("phone=919876543210")]
    [InlineData("{\"text\":\"\\ud800\"}")] // no text holds a lone surrogate
    public void WhatIsNotJsonHasNoCanonicalForm(string body) =>
        Assert.Null(CanonicalJson.Of(Encoding.UTF8.GetBytes(body)));

    private static string Of(string json) =>
        Encoding.UTF8.GetString(CanonicalJson.Of(Encoding.UTF8.GetBytes(json)) ?? throw new InvalidOperationException("not JSON: " + json));
}
