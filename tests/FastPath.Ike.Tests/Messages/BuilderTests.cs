using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Messages;
using Xunit;

namespace FastPath.Ike.Tests.Messages;

public class BuilderTests
{
    [Fact]
    public void Every_payload_type_round_trips_in_clear()
    {
        var payloads = Samples.AllPayloads();
        var bytes = IkeMessageBuilder.Build(Samples.Header, payloads);
        Assert.Equal((uint)bytes.Length, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(24)));
        Assert.Equal((byte)PayloadType.SecurityAssociation, bytes[16]);
        var r = IkeMessage.Parse(bytes);
        Assert.True(r.Ok, r.Error.ToString());
        var m = r.Value!;
        Assert.Equal(payloads.Select(p => p.Type), m.Payloads.Select(p => p.Type));
        Assert.Equal(bytes, m.Serialize());
        var sa = Assert.IsType<SaPayload>(m.Payloads[0]);
        Assert.Equal(256, sa.Proposals[0].Transforms[0].KeyLength);
        Assert.Equal(new byte[] { 9, 9, 9 }, sa.Proposals[1].Transforms[2].Attributes[0].TlvValue);
        Assert.Null(sa.Proposals[1].Transforms[1].KeyLength);
        var ts = Assert.IsType<TsPayload>(m.Payloads[16]);
        Assert.Equal((17, 500, 500), (ts.Selectors[1].IpProtocol, (int)ts.Selectors[1].StartPort, (int)ts.Selectors[1].EndPort));
        Assert.Equal(2, IkeMessage.Find<DeletePayload>(m.Payloads)!.Spis.Count);
        Assert.Equal("moon.example", System.Text.Encoding.ASCII.GetString(m.Payloads.OfType<IdPayload>().First(i => i.IdType == IdType.Fqdn).Data));
        Assert.Equal(CfgType.Reply, m.Payloads.OfType<CpPayload>().Last().CfgType);
        Assert.Equal(2, IkeMessage.Find<EapPayload>(m.Payloads)!.Code);
        Assert.Equal((PayloadType)200, Assert.IsType<RawPayload>(m.Payloads[^1]).Type);
    }

    [Fact]
    public void Encrypted_payload_round_trips_and_names_the_first_inner_type()
    {
        var c = Samples.Cipher();
        var inner = Samples.AllPayloads();
        var bytes = IkeMessageBuilder.BuildEncrypted(Samples.Header, [], inner, c);
        Assert.Equal((byte)PayloadType.Encrypted, bytes[16]);
        Assert.Equal((byte)PayloadType.SecurityAssociation, bytes[28]);
        var m = IkeMessage.Parse(bytes).Value!;
        var sk = Assert.IsType<EncryptedPayload>(Assert.Single(m.Payloads));
        Assert.Equal(PayloadType.SecurityAssociation, sk.FirstInnerPayload);
        var r = m.DecryptSk(bytes, c);
        Assert.True(r.Ok, r.Error.ToString());
        Assert.Equal(IkeMessageBuilder.SerializeInner(inner), IkeMessageBuilder.SerializeInner(r.Value!));
        Assert.Equal(bytes, m.Serialize());
    }

    [Fact]
    public void Encrypted_payload_after_clear_payloads_and_empty_SK()
    {
        var c = Samples.Cipher();
        var bytes = IkeMessageBuilder.BuildEncrypted(Samples.Header, [new VendorIdPayload([1, 2])], [], c);
        var m = IkeMessage.Parse(bytes).Value!;
        Assert.Equal(2, m.Payloads.Count);
        Assert.Equal(PayloadType.None, m.Encrypted!.FirstInnerPayload);
        Assert.Empty(m.DecryptSk(bytes, c).Value!);
        // Tamper with the clear payload: the ICV covers it.
        bytes[32] ^= 0xff;
        Assert.Equal(ParseErrorCode.DecryptFailed, IkeMessage.Parse(bytes).Value!.DecryptSk(bytes, c).Error.Code);
    }

    [Fact]
    public void Fragments_fit_the_limit_and_reassemble_shuffled_with_duplicates()
    {
        var c = Samples.Cipher();
        var inner = Samples.AllPayloads();
        int plainLen = IkeMessageBuilder.SerializeInner(inner).Length;
        foreach (int max in new[] { 100, 200, 400 })
        {
            var frags = IkeMessageBuilder.BuildFragments(Samples.Header, inner, c, max);
            Assert.All(frags, f => Assert.True(f.Length <= max, $"{f.Length} > {max}"));
            int chunk = IkeMessageBuilder.FragmentChunkSize(c, max);
            Assert.Equal((plainLen + chunk - 1) / chunk, frags.Count);
            var parsed = frags.Select(f => IkeMessage.Parse(f).Value!).ToList();
            for (int i = 0; i < parsed.Count; i++)
            {
                Assert.Equal(i + 1, parsed[i].Fragment!.FragmentNumber);
                Assert.Equal(frags.Count, parsed[i].Fragment!.TotalFragments);
                Assert.Equal(i == 0 ? PayloadType.SecurityAssociation : PayloadType.None, parsed[i].Fragment!.FirstInnerPayload);
            }
            var rng = new Random(max);
            var order = Enumerable.Range(0, frags.Count).OrderBy(_ => rng.Next()).ToList();
            order.Insert(order.Count / 2, order[0]); // a duplicate before completion
            var ra = new FragmentReassembler(maxFragments: 200);
            var results = order.Select(i => ra.Add(parsed[i], frags[i], c, 0)).ToList();
            Assert.Equal(ReassemblyStatus.Complete, results[^1].Status);
            Assert.True(frags.Count >= 2);
            Assert.Single(results, r => r.Status == ReassemblyStatus.Duplicate);
            Assert.Equal(frags.Count - 1, results.Count(r => r.Status == ReassemblyStatus.Incomplete));
            Assert.Equal(IkeMessageBuilder.SerializeInner(inner), IkeMessageBuilder.SerializeInner(results[^1].Payloads!));
            // A retransmitted fragment after completion is reported, not reassembled again.
            Assert.Equal(ReassemblyStatus.AlreadyComplete, ra.Add(parsed[0], frags[0], c, 1).Status);
        }
    }

    [Fact]
    public void Fragment_limit_too_small_is_an_argument_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IkeMessageBuilder.BuildFragments(Samples.Header, Samples.AllPayloads(), Samples.Cipher(), 60));
    }

    [Fact]
    public void Small_message_is_one_fragment()
    {
        var c = Samples.Cipher();
        var frags = IkeMessageBuilder.BuildFragments(Samples.Header, [new NotifyPayload(NotifyType.InitialContact, [])], c, 1280);
        var m = IkeMessage.Parse(Assert.Single(frags)).Value!;
        Assert.Equal((1, 1), (m.Fragment!.FragmentNumber, m.Fragment.TotalFragments));
        var r = new FragmentReassembler().Add(m, frags[0], c, 0);
        Assert.Equal(ReassemblyStatus.Complete, r.Status);
        Assert.Equal(NotifyType.InitialContact, Assert.IsType<NotifyPayload>(Assert.Single(r.Payloads!)).NotifyType);
    }
}
