#!/usr/bin/perl
# devconf.pl IFNAME NAME VALUE: sets one IPv4 per-interface setting (net.ipv4.conf.IFNAME.NAME) through rtnetlink
# (RTM_SETLINK, IFLA_AF_SPEC / AF_INET / IFLA_INET_CONF), for container runtimes that mount /proc/sys read-only.
# Needs CAP_NET_ADMIN in the network namespace and nothing else: no /proc, no extra package (perl-base is Essential in
# Debian). The hop entrypoint uses it when writing /proc/sys fails. Exit 0 on the kernel's ACK, 1 with a message else.
use strict;
use warnings;
use Socket;

# include/uapi/linux/ip.h: IPV4_DEVCONF_* (1-based). Only what the hop sets.
my %DEVCONF = (forwarding => 1, rp_filter => 8);
my ($ifname, $name, $value) = @ARGV;
die "usage: devconf.pl IFNAME forwarding|rp_filter VALUE\n"
  unless defined $value && exists $DEVCONF{$name} && $value =~ /^\d+$/;

open(my $fh, '<', "/sys/class/net/$ifname/ifindex") or die "devconf.pl: no interface $ifname: $!\n";
chomp(my $ifindex = <$fh>);
close $fh;

use constant { AF_NETLINK => 16, NETLINK_ROUTE => 0, RTM_SETLINK => 19, NLMSG_ERROR => 2 };
use constant { NLM_F_REQUEST => 1, NLM_F_ACK => 4, IFLA_AF_SPEC => 26, IFLA_INET_CONF => 1, NLA_F_NESTED => 0x8000 };

# A netlink attribute: length, type, payload padded to 4 bytes.
sub nla {
  my ($type, $payload) = @_;
  my $len = 4 + length $payload;
  return pack('SS', $len, $type) . $payload . ("\0" x ((4 - $len % 4) % 4));
}

my $attrs = nla(IFLA_AF_SPEC | NLA_F_NESTED,
  nla(AF_INET | NLA_F_NESTED, nla(IFLA_INET_CONF | NLA_F_NESTED, nla($DEVCONF{$name}, pack('L', $value)))));
my $body = pack('CCSiII', 0, 0, 0, $ifindex, 0, 0) . $attrs;    # struct ifinfomsg, AF_UNSPEC
my $msg  = pack('LSSLL', 16 + length $body, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) . $body;

socket(my $sock, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) or die "devconf.pl: netlink socket: $!\n";
bind($sock, pack('SSLL', AF_NETLINK, 0, 0, 0)) or die "devconf.pl: bind: $!\n";
send($sock, $msg, 0) or die "devconf.pl: send: $!\n";
defined recv($sock, my $reply, 65536, 0) or die "devconf.pl: recv: $!\n";
my ($len, $type, undef, undef, undef, $error) = unpack('LSSLLi', $reply);
die "devconf.pl: unexpected reply type $type\n" unless $type == NLMSG_ERROR;
if ($error != 0) {
  local $! = -$error;
  die "devconf.pl: net.ipv4.conf.$ifname.$name=$value refused: $!\n";
}
exit 0;
