using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Messages;
using Xunit;

namespace FastPath.Ike.Tests.Messages;

// RFC 7383 §2.6 receive rules.
public class ReassemblerTests
{
    private static (List<byte[]> raw, List<IkeMessage> msgs) Fragments(TestCbcHmacCipher c, int max, uint mid = 1, ExchangeType ex = ExchangeType.IkeAuth)
    {
        var h = Samples.Header with { MessageId = mid, Exchange = ex };
        var raw = IkeMessageBuilder.BuildFragments(h, Samples.AllPayloads(), c, max).ToList();
        return (raw, raw.Select(r => IkeMessage.Parse(r).Value!).ToList());
    }

    [Fact]
    public void Forged_fragment_is_discarded_without_disturbing_the_real_ones()
    {
        var c = Samples.Cipher();
        var (raw, msgs) = Fragments(c, 200);
        var ra = new FragmentReassembler();
        Assert.Equal(ReassemblyStatus.Incomplete, ra.Add(msgs[0], raw[0], c, 0).Status);
        var bad = (byte[])raw[1].Clone();
        bad[^1] ^= 1;
        var r = ra.Add(IkeMessage.Parse(bad).Value!, bad, c, 0);
        Assert.Equal(ReassemblyStatus.Discarded, r.Status);
        Assert.Equal(ParseErrorCode.DecryptFailed, r.Error.Code);
        ReassemblyResult last = null!;
        for (int i = 1; i < raw.Count; i++) last = ra.Add(msgs[i], raw[i], c, 0);
        Assert.Equal(ReassemblyStatus.Complete, last.Status);
    }

    [Fact]
    public void Larger_total_restarts_smaller_total_is_discarded()
    {
        var c = Samples.Cipher();
        var (rawBig, msgsBig) = Fragments(c, 400);   // fewer, larger fragments
        var (rawSmall, msgsSmall) = Fragments(c, 150); // re-fragmented smaller: more fragments
        Assert.True(msgsSmall[0].Fragment!.TotalFragments > msgsBig[0].Fragment!.TotalFragments);
        var ra = new FragmentReassembler();
        Assert.Equal(ReassemblyStatus.Incomplete, ra.Add(msgsBig[0], rawBig[0], c, 0).Status);
        Assert.Equal(ReassemblyStatus.Incomplete, ra.Add(msgsSmall[0], rawSmall[0], c, 0).Status); // starts anew
        Assert.Equal(ReassemblyStatus.Discarded, ra.Add(msgsBig[1], rawBig[1], c, 0).Status);     // smaller total now
        ReassemblyResult last = null!;
        for (int i = 1; i < rawSmall.Count; i++) last = ra.Add(msgsSmall[i], rawSmall[i], c, 0);
        Assert.Equal(ReassemblyStatus.Complete, last.Status);
    }

    [Fact]
    public void Timeout_drops_partial_messages()
    {
        var c = Samples.Cipher();
        var (raw, msgs) = Fragments(c, 200);
        var ra = new FragmentReassembler(timeoutMs: 1000);
        ra.Add(msgs[0], raw[0], c, 0);
        Assert.Equal(1, ra.Pending);
        Assert.Equal(0, ra.Expire(1000));
        Assert.Equal(1, ra.Expire(1001));
        // The rest alone never completes: fragment 1 is gone.
        var results = Enumerable.Range(1, raw.Count - 1).Select(i => ra.Add(msgs[i], raw[i], c, 1002).Status).ToList();
        Assert.DoesNotContain(ReassemblyStatus.Complete, results);
    }

    [Fact]
    public void Bounds_on_fragments_bytes_and_messages()
    {
        var c = Samples.Cipher();
        var (raw, msgs) = Fragments(c, 100);
        Assert.True(msgs[0].Fragment!.TotalFragments > 4);
        Assert.Equal(ReassemblyStatus.Discarded, new FragmentReassembler(maxFragments: 4).Add(msgs[0], raw[0], c, 0).Status);

        var small = new FragmentReassembler(maxBytes: 100);
        var statuses = Enumerable.Range(0, raw.Count).Select(i => small.Add(msgs[i], raw[i], c, 0).Status).ToList();
        Assert.Contains(ReassemblyStatus.Discarded, statuses);
        Assert.DoesNotContain(ReassemblyStatus.Complete, statuses);

        var two = new FragmentReassembler(maxMessages: 2);
        for (uint mid = 1; mid <= 2; mid++)
        {
            var (r, m) = Fragments(c, 200, mid);
            Assert.Equal(ReassemblyStatus.Incomplete, two.Add(m[0], r[0], c, 0).Status);
        }
        var (r3, m3) = Fragments(c, 200, 3);
        Assert.Equal(ReassemblyStatus.Discarded, two.Add(m3[0], r3[0], c, 0).Status);
        Assert.Equal(2, two.Pending);
    }

    [Fact]
    public void Requests_and_responses_with_the_same_message_id_are_separate()
    {
        var c = Samples.Cipher();
        var (rq, mq) = Fragments(c, 200);
        var hR = Samples.Header with { Flags = IkeFlags.Response };
        var rr = IkeMessageBuilder.BuildFragments(hR, Samples.AllPayloads(), c, 200).ToList();
        var mr = rr.Select(x => IkeMessage.Parse(x).Value!).ToList();
        var ra = new FragmentReassembler();
        ra.Add(mq[0], rq[0], c, 0);
        ra.Add(mr[0], rr[0], c, 0);
        Assert.Equal(2, ra.Pending);
    }

    private sealed class OversizedNonce : IkePayload
    {
        public override PayloadType Type => PayloadType.Nonce;
        public override int BodyLength => 300; // RFC 7296 §3.9 allows at most 256
        public override void WriteBody(Span<byte> dst) => dst[..300].Fill(7);
    }

    [Fact]
    public void Inner_chain_failure_discards_the_whole_message()
    {
        var c = Samples.Cipher();
        var frags = IkeMessageBuilder.BuildFragments(Samples.Header, [new OversizedNonce()], c, 150).ToList();
        Assert.True(frags.Count >= 3);
        var ra = new FragmentReassembler();
        var statuses = frags.Select(f => ra.Add(IkeMessage.Parse(f).Value!, f, c, 0)).ToList();
        Assert.All(statuses.Take(frags.Count - 1), s => Assert.Equal(ReassemblyStatus.Incomplete, s.Status));
        Assert.Equal(ReassemblyStatus.Discarded, statuses[^1].Status);
        Assert.Equal(ParseErrorCode.BadLength, statuses[^1].Error.Code);
        Assert.Equal(0, ra.Pending);
    }
}
