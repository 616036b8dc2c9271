using Mistral.Runtime.Chat;
using Mistral.Runtime.Tests.Tokenizer;
using Mistral.Runtime.Tokenizer;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Chat;

public sealed class ChatTemplateTests
{
    private const string Question = "What is your favourite condiment?";
    private const string Answer = "Well, I'm quite partial to a good squeeze of fresh lemon juice.";

    /// <summary>The ids Mistral's own tokenizer (sentencepiece, mistral-common v1) gives the first instruct turn, from the tokenizer fixture.</summary>
    private static int[] ReferenceFirstTurn() =>
        MistralTokenizers.Cases.Single(c => c.Text == $"[INST] {Question} [/INST]" && c.AddBos).Ids;

    [Theory]
    [MemberData(nameof(MistralTokenizers.Files), MemberType = typeof(MistralTokenizers))]
    public void Prompt_OneUserMessage_MatchesTheReferenceTokenizer(string file)
    {
        var template = ChatTemplate.For(MistralTokenizers.Get(file))!;
        var ids = template.Prompt([new(ChatRole.User, Question)]);
        Assert.Equal(ReferenceFirstTurn(), ids);
        // "▁[", "INST", "]" … "▁[", "/", "INST", "]": the delimiters are text, not control ids, in tokenizer v1.
        Assert.Equal([1, 733, 16289, 28793], ids[..4]);
        Assert.Equal([733, 28748, 16289, 28793], ids[^4..]);
    }

    [Fact]
    public void Prompt_MultiTurn_AnswerClosedByEosThenNextInstTurn()
    {
        var tokenizer = MistralTokenizers.Get(MistralTokenizers.ModelFile);
        var template = ChatTemplate.For(tokenizer)!;
        var ids = template.Prompt([new(ChatRole.User, Question), new(ChatRole.Assistant, Answer), new(ChatRole.User, "Do you have mayonnaise recipes?")]);
        int[] expected =
        [
            .. ReferenceFirstTurn(),
            .. tokenizer.Encode(Answer, bos: false), tokenizer.EosId,
            .. tokenizer.Encode("[INST] Do you have mayonnaise recipes? [/INST]", bos: false),
        ];
        Assert.Equal(expected, ids);
        Assert.Equal(2, tokenizer.EosId);
    }

    [Fact]
    public void Prompt_SystemMessage_PrependedToFirstUserMessageWithBlankLine()
    {
        var template = ChatTemplate.For(MistralTokenizers.Get(MistralTokenizers.ModelFile))!;
        var withSystem = template.Prompt([new(ChatRole.System, "Be brief."), new(ChatRole.User, Question)]);
        var inline = template.Prompt([new(ChatRole.User, "Be brief.\n\n" + Question)]);
        Assert.Equal(inline, withSystem);
    }

    [Theory]
    [InlineData(new[] { ChatRole.Assistant }, "message 0 is from the assistant")]
    [InlineData(new[] { ChatRole.User, ChatRole.User }, "message 1 is from the user")]
    [InlineData(new[] { ChatRole.User, ChatRole.Assistant }, "must end with a user message")]
    [InlineData(new[] { ChatRole.System }, "no user message")]
    public void Prompt_BadConversation_NamesTheProblem(ChatRole[] roles, string fragment)
    {
        var template = ChatTemplate.For(MistralTokenizers.Get(MistralTokenizers.ModelFile))!;
        var e = Assert.Throws<ArgumentException>(() => template.Prompt(roles.Select(r => new ChatMessage(r, "x")).ToList()));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void For_Gpt2ByteLevelTokenizer_IsNull()
    {
        var tokenizer = TokenizerFiles.Load(Path.Combine(Fixtures.Root, "tiny-gpt2", "hf"));
        Assert.Null(ChatTemplate.For(tokenizer));
    }
}
