using System;
using System.CommandLine;
using FastPath.Cli.Demo;
using FastPath.Cli.HostKeys;

namespace FastPath.Cli;

// `demo`, `newhostkey`, `showhostkey`: their work lives in Demo/ and HostKeys/; this file only maps
// the command line onto their option classes.

internal static class ExtraVerbs
{
    public static void Register(RootCommand root)
    {
        var seconds = new Option<int>("--seconds") { Description = "seconds of traffic", DefaultValueFactory = _ => 5 };
        var keying = new Option<string>("--keying") { Description = "manual | ikev2", DefaultValueFactory = _ => DemoCommand.DefaultKeying };
        var suite = new Option<string>("--suite") { Description = "ESP suite of the demo tunnel", DefaultValueFactory = _ => "aes128gcm16" };
        keying.AcceptOnlyFromAmong("manual", "ikev2");
        var io = new Option<string>("--io") { Description = "afpacket | afxdp | auto", DefaultValueFactory = _ => "afpacket" };
        io.AcceptOnlyFromAmong("afpacket", "afxdp", "auto");
        var keep = new Option<bool>("--keep") { Description = "keep the namespaces for inspection" };
        var json = Program.JsonOption();
        var demo = new Command("demo", "a real tunnel between two FastPath gateways in network namespaces, with traffic") { seconds, keying, suite, io, keep, json };
        demo.SetAction((pr, ct) => DemoCommand.RunAsync(new DemoOptions
        {
            Seconds = pr.GetValue(seconds), Keying = pr.GetValue(keying)!, Suite = pr.GetValue(suite)!, Io = pr.GetValue(io)!, Keep = pr.GetValue(keep), Json = pr.GetValue(json),
        }, ct));
        root.Subcommands.Add(demo);

        var type = new Option<string>("--type") { Description = "rsa | ecdsa | ed25519", DefaultValueFactory = _ => "rsa" };
        type.AcceptOnlyFromAmong("rsa", "ecdsa", "ed25519");
        var bits = new Option<int>("--bits") { Description = "RSA modulus bits", DefaultValueFactory = _ => 3072 };
        var output = new Option<string>("--output") { Description = "ipsec.secrets to append to", DefaultValueFactory = _ => "/etc/ipsec.secrets", HelpName = "FILE" };
        var newKey = new Command("newhostkey", "generate a host key and append it to ipsec.secrets (ipsec newhostkey)") { type, bits, output };
        newKey.SetAction(pr => HostKeyCommands.NewHostKey(new NewHostKeyOptions { Type = pr.GetValue(type)!, Bits = pr.GetValue(bits), Output = pr.GetValue(output)! }, Console.Out, Console.Error));
        root.Subcommands.Add(newKey);

        var secrets = new Option<string>("--secrets") { Description = "ipsec.secrets to read", DefaultValueFactory = _ => "/etc/ipsec.secrets", HelpName = "FILE" };
        var left = new Option<bool>("--left") { Description = "print as leftrsasigkey=" };
        var right = new Option<bool>("--right") { Description = "print as rightrsasigkey=" };
        var json2 = Program.JsonOption();
        var showKey = new Command("showhostkey", "print the host's public key for ipsec.conf (ipsec showhostkey)") { secrets, left, right, json2 };
        showKey.SetAction(pr => HostKeyCommands.ShowHostKey(new ShowHostKeyOptions
        {
            Secrets = pr.GetValue(secrets)!, Side = pr.GetValue(left) ? "left" : pr.GetValue(right) ? "right" : null, Json = pr.GetValue(json2),
        }, Console.Out, Console.Error));
        root.Subcommands.Add(showKey);
    }
}
