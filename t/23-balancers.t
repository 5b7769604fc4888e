#!/usr/bin/perl

# t/23-balancers.t: how an upstream group spreads requests, over real
# sockets, with Perl backends that answer their own name: smooth weighted
# round robin (5:1:1 gives "a a b a c a a"), backup servers used only when
# the primaries fail, max_fails/fail_timeout sidelining a dead server and
# trying it again later, 502 when every server is down, least_conn
# avoiding a busy server, ip_hash and hash keeping a client or key on one
# server, random spreading, a zone shared by two workers, and the
# configuration errors of methods that refuse "backup".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http_get http_parse connect_raw);
use Sluice::Backend ();

my $t = Sluice::Test->new()->has(qw(http_proxy http_upstream_hash http_upstream_ip_hash
                                    http_upstream_least_conn http_upstream_random
                                    http_upstream_zone));

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    access_log off;

    upstream weighted {
        server 127.0.0.1:%%PORT_9001%% weight=5;
        server 127.0.0.1:%%PORT_9002%%;
        server 127.0.0.1:%%PORT_9003%%;
    }

    upstream withbackup {
        server 127.0.0.1:%%PORT_9004%% max_fails=1 fail_timeout=2s;
        server 127.0.0.1:%%PORT_9005%% max_fails=1 fail_timeout=2s;
        server 127.0.0.1:%%PORT_9006%% backup;
    }

    upstream failing {
        server 127.0.0.1:%%PORT_9007%% max_fails=1 fail_timeout=2s;
        server 127.0.0.1:%%PORT_9002%% max_fails=1 fail_timeout=2s;
    }

    upstream leastconn {
        least_conn;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%%;
    }

    upstream iphash {
        ip_hash;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%%;
        server 127.0.0.1:%%PORT_9003%%;
    }

    upstream keyhash {
        hash $arg_k;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%%;
        server 127.0.0.1:%%PORT_9003%%;
    }

    upstream ring {
        hash $arg_k consistent;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%%;
        server 127.0.0.1:%%PORT_9003%%;
    }

    upstream rand {
        random;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%% weight=3;
    }

    upstream randtwo {
        random two least_conn;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%%;
        server 127.0.0.1:%%PORT_9003%%;
    }

    upstream alldown {
        server 127.0.0.1:%%PORT_9008%%;
        server 127.0.0.1:%%PORT_9009%% down;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        proxy_next_upstream error timeout;
        proxy_connect_timeout 2s;
        proxy_read_timeout 5s;

        location /weighted/ { proxy_pass http://weighted; }
        location /backup/ { proxy_pass http://withbackup; }
        location /failing/ { proxy_pass http://failing; }
        location /leastconn/ { proxy_pass http://leastconn; }
        location /iphash/ { proxy_pass http://iphash; }
        location /keyhash/ { proxy_pass http://keyhash; }
        location /ring/ { proxy_pass http://ring; }
        location /rand/ { proxy_pass http://rand; }
        location /randtwo/ { proxy_pass http://randtwo; }
        location /alldown/ { proxy_pass http://alldown; }
    }
}
END

$t->plan(33);

# --- backends -----------------------------------------------------------------------

my %BACKEND; # name => pid

# A backend answering "NAME" to every request (HTTP/1.1, keep-alive); a path
# starting with /hold/ is answered after 1.5 s. One process, select loop.
sub backend
{
    my ($name, $n) = @_;
    my %due;
    return $BACKEND{$name} = Sluice::Backend::backend($n, name => "backend $name", select => {
        request => sub {
            my ($srv, $s, $method, $path) = @_;
            $due{$s} = [$s, $path =~ m{/hold/} ? time() + 1.5 : 0];
        },
        eof => sub { my ($srv, $s) = @_; delete $due{$s}; },
        tick => sub {
            for my $k (keys %due) {
                my ($s, $at) = @{$due{$k}};
                next if $at > time();
                delete $due{$k};
                syswrite($s, "HTTP/1.1 200 OK\r\nContent-Length: " . length($name)
                             . "\r\nConnection: keep-alive\r\n\r\n$name");
            }
        },
    });
}

sub stop_backend
{
    my ($name) = @_;
    my $pid = delete $BACKEND{$name} or return;
    Sluice::Backend::stop_backend($pid);
}

backend('a', 9001);
backend('b', 9002);
backend('c', 9003);
backend('d', 9004);
backend('e', 9005);
backend('backup', 9006);

$t->run();

sub body
{
    my ($path, %opts) = @_;
    my $r = http_parse(http_get($path, %opts));
    return $r ? ($r->{status} == 200 ? $r->{body} : "status $r->{status}") : 'no response';
}

sub names
{
    my ($path, $n) = @_;
    return join ' ', map { body($path) } 1 .. $n;
}

# --- round robin --------------------------------------------------------------------

is(names('/weighted/x', 7), 'a a b a c a a', 'weights 5:1:1: the smooth sequence');
is(names('/weighted/x', 14), 'a a b a c a a a a b a c a a', 'and again, twice over');

# --- backup, max_fails, fail_timeout ------------------------------------------------

my $seq = names('/backup/x', 10);
is($seq, 'd e d e d e d e d e', 'the backup is idle while the primaries are up');

stop_backend('d');
$seq = names('/backup/x', 4);
is($seq, 'e e e e', 'a dead primary: the other one serves, the request never fails');
stop_backend('e');
is(body('/backup/x'), 'backup', 'every primary dead: the backup serves');
is(names('/backup/x', 3), 'backup backup backup', 'and keeps serving');

backend('d', 9004);
sleep(3.2);
is(names('/backup/x', 3), 'd d d', 'a primary back after fail_timeout takes over again');

# connect() failures while serving "failing" (only its first server is dead)
sub refused
{
    my ($path) = @_;
    my $n = () = $t->error_log =~ /connect\(\) failed .*request: "GET \Q$path\E /g;
    return $n;
}

my $refused = refused('/failing/x');
is($refused, 0, 'no connect to the dead server of "failing" yet');

is(names('/failing/x', 6), 'b b b b b b', 'a dead server: every request still answered by b');
$refused = refused('/failing/x');
is($refused, 1, 'max_fails=1: the dead server was tried once, then skipped');
like($t->error_log, qr/upstream server temporarily disabled/, 'and reported disabled');

sleep(3.2);
names('/failing/x', 4);
$refused = refused('/failing/x');
is($refused, 2, 'after fail_timeout it gets one more try');

my $r = http_parse(http_get('/alldown/x'));
is($r && $r->{status}, 502, 'every server down or dead: 502');
is(refused('/alldown/x'), 1, 'after one refused connect: the other server is down');

# --- least_conn ---------------------------------------------------------------------

my $held = connect_raw();
print {$held} "GET /leastconn/hold/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
sleep(0.3);
is(names('/leastconn/x', 4), 'b b b b', 'least_conn: a busy server gets nothing new');
my $held_body = '';
{
    local $/;
    my $sel = IO::Select->new($held);
    my $deadline = time() + 5;
    while (time() < $deadline) {
        next unless $sel->can_read(0.2);
        my $n = sysread($held, my $chunk, 4096);
        last unless $n;
        $held_body .= $chunk;
    }
}
like($held_body, qr/\r\n\r\na$/, 'and the held request was answered by a');
is(join(' ', sort split / /, names('/leastconn/x', 4)), 'a a b b',
   'idle again: equal load alternates');

# --- ip_hash ------------------------------------------------------------------------

# 127.0.0.1 hashes (nginx's formula over 127.0.0) to the third of three servers
is(names('/iphash/x', 5), 'c c c c c', 'ip_hash: the client keeps its server');

# --- hash ---------------------------------------------------------------------------

my %first;
my $stable = 1;
for my $k (1 .. 20) {
    my $b1 = body("/keyhash/x?k=user$k");
    my $b2 = body("/keyhash/x?k=user$k");
    $stable = 0 if $b1 ne $b2;
    $first{$b1}++;
}
ok($stable, 'hash: the same key goes to the same server');
is(scalar keys %first, 3, 'and keys spread over all three');

my %ring;
$stable = 1;
for my $k (1 .. 20) {
    my $b1 = body("/ring/x?k=item$k");
    $stable = 0 if $b1 ne body("/ring/x?k=item$k");
    $ring{$b1}++;
}
ok($stable, 'hash consistent: the same key goes to the same server');
ok(keys %ring >= 2, 'and keys spread (' . join(' ', map { "$_=$ring{$_}" } sort keys %ring) . ')');

# --- random -------------------------------------------------------------------------

my %rand;
$rand{body('/rand/x')}++ for 1 .. 200;
ok(($rand{a} // 0) > 20 && ($rand{b} // 0) > 100, "random follows weights 1:3 (a=" . ($rand{a} // 0)
   . " b=" . ($rand{b} // 0) . ")");

my %two;
$two{body('/randtwo/x')}++ for 1 .. 60;
is(join(' ', sort keys %two), 'a b c', 'random two uses every server');

# --- configuration errors -----------------------------------------------------------

my $bad = Sluice::Test->new();
for my $method ('ip_hash', 'hash $uri', 'random') {
    $bad->write_conf(<<"END");
events { }
http {
    upstream u {
        $method;
        server 127.0.0.1:%%PORT_9001%%;
        server 127.0.0.1:%%PORT_9002%% backup;
    }
    server { listen 127.0.0.1:%%PORT_8081%%; location / { proxy_pass http://u; } }
}
END
    my ($code, $out) = $bad->test_config();
    like($out, qr/balancing method does not support parameter "backup"/,
         "$method refuses a backup server");
}

# --- a zone shared by two workers, across reloads ------------------------------------

$t->stop();

# The worker pids of a master (children in /proc).
sub children
{
    my ($ppid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // '';
        close $fh;
        push @kids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $ppid;
    }
    return sort @kids;
}

my $ZONE_CONF = <<'END';
error_log logs/error.log info;
worker_processes 2;
events { }
http {
    access_log off;
    upstream zoned {
        zone backends 64k;
        server 127.0.0.1:%%PORT_9010%% max_fails=1 fail_timeout=30s;
        server 127.0.0.1:%%PORT_9002%%@WEIGHT@ max_fails=1 fail_timeout=30s;
    }
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        location / { proxy_pass http://zoned; }
    }
}
END

my $z = Sluice::Test->new();
(my $conf = $ZONE_CONF) =~ s/\@WEIGHT\@//;
$z->write_conf($conf);
$z->run();

sub zone_refusals
{
    my $n = () = $z->error_log =~ /connect\(\) failed/g;
    return $n;
}

# Reloads and waits (bounded) until none of the old workers is left.
sub reload
{
    my @old = children($z->pid);
    $z->signal('HUP');
    my $deadline = time() + 10;
    while (time() < $deadline) {
        my %now = map { $_ => 1 } children($z->pid);
        return 1 if keys %now >= 2 && !grep { $now{$_} } @old;
        sleep(0.1);
    }
    return 0;
}

my $all_b = 1;
for (1 .. 20) {
    $all_b = 0 if body('/x', port => 8082) ne 'b';
}
ok($all_b, 'zone: every request answered');
is(zone_refusals(), 1, 'the dead server was tried once for both workers (shared max_fails)');

ok(reload(), 'reloaded with the same configuration');
body('/x', port => 8082) for 1 .. 10;
is(zone_refusals(), 1, 'the zone carried over: still sidelined after the reload');

(my $changed = $ZONE_CONF) =~ s/\@WEIGHT\@/ weight=2/;
$z->write_conf($changed);
ok(reload(), 'reloaded with a changed group');
body('/x', port => 8082) for 1 .. 10;
is(zone_refusals(), 2, 'a changed group starts from a fresh zone: the dead server is tried again');

$z->stop();
