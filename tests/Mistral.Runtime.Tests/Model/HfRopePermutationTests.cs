using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Model;

public sealed class HfRopePermutationTests
{
    [Fact]
    public void Hf_rows_map_to_native_rows_as_the_conventions_state()
    {
        // head_dim 8: HF rows 0..3 hold native rows 0, 2, 4, 6; HF rows 4..7 hold native rows 1, 3, 5, 7.
        Assert.Equal([0, 2, 4, 6, 1, 3, 5, 7], Enumerable.Range(0, 8).Select(r => HfRopePermutation.NativeRowOf(r, 8)));
    }

    [Fact]
    public void Un_permuting_moves_whole_rows_within_each_head()
    {
        // 2 heads of head_dim 4, rows of width 1 holding their HF row index: native = [0, 2, 1, 3 | 4, 6, 5, 7].
        var hf = HostTensor.FromFloat32("hf", [0, 1, 2, 3, 4, 5, 6, 7], new Shape(8, 1));
        var native = HfRopePermutation.ToNative(hf, "native", heads: 2, headDim: 4);
        Assert.Equal([0f, 2f, 1f, 3f, 4f, 6f, 5f, 7f], native.ToFloat32());
        Assert.Equal("native", native.Name);
    }

    [Fact]
    public void To_hf_inverts_to_native_in_bf16_bytes()
    {
        var values = Enumerable.Range(0, 3 * 6 * 5).Select(i => (float)Math.Sin(i)).ToArray();
        var original = HostTensor.FromFloat32("x", values, new Shape(18, 5), DType.BF16);
        var hf = HfRopePermutation.ToHf(original, "hf", heads: 3, headDim: 6);
        Assert.False(hf.Bytes.SequenceEqual(original.Bytes));
        Assert.True(HfRopePermutation.ToNative(hf, "x", 3, 6).Bytes.SequenceEqual(original.Bytes));
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", "tok_embeddings.weight")]
    [InlineData("lm_head.weight", "output.weight")]
    [InlineData("model.norm.weight", "norm.weight")]
    [InlineData("model.layers.11.input_layernorm.weight", "layers.11.attention_norm.weight")]
    [InlineData("model.layers.0.post_attention_layernorm.weight", "layers.0.ffn_norm.weight")]
    [InlineData("model.layers.3.self_attn.o_proj.weight", "layers.3.attention.wo.weight")]
    [InlineData("model.layers.3.mlp.gate_proj.weight", "layers.3.feed_forward.w1.weight")]
    [InlineData("model.layers.3.mlp.up_proj.weight", "layers.3.feed_forward.w3.weight")]
    [InlineData("model.layers.3.mlp.down_proj.weight", "layers.3.feed_forward.w2.weight")]
    public void Names_map_both_ways(string hf, string native)
    {
        Assert.Equal(native, MistralHfTensorNames.ToNative(hf));
        Assert.Equal(hf, MistralHfTensorNames.ToHf(native));
    }

    [Fact]
    public void Unused_hf_tensors_have_no_native_name() =>
        Assert.Null(MistralHfTensorNames.ToNative("model.layers.0.self_attn.rotary_emb.inv_freq"));
}
