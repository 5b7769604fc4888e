#!/usr/bin/perl

# t/30-limit-req.t: limit_req with nginx's leaky bucket. Exact counts at low
# rates (burst, nodelay, delay=N, several limits where the strictest wins),
# the order and lower bounds of delayed answers, empty keys, keys built from
# several variables, limit_req_status with error_page, dry run and
# $limit_req_status in the access log, the RateLimit fields and Retry-After,
# a tiny zone evicting its least recently used keys, a client that leaves
# while delayed, counters kept across a reload, and two workers sharing one
# bucket. Limits apply in the pre-access phase, which "return" never
# reaches (as in nginx), so the locations serve static files.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use Test::More;
use Time::HiRes qw(time sleep);
use Sluice::Test qw(http http_get http_parse http_parse_all connect_raw port);

my $t = Sluice::Test->new()->has(qw(http_limit_req http_static));
my $p = $t->prefix;

my $conf = <<"END";
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    log_format lr '\$uri \$status \$limit_req_status \$http_x_key';
    access_log logs/access.log lr;
    root ${p}html;

    limit_req_zone \$http_x_key zone=ten:1m rate=10r/s;
    limit_req_zone \$http_x_key zone=slow:1m rate=1r/s;
    limit_req_zone \$http_x_key zone=minute:1m rate=1r/m;
    limit_req_zone \$binary_remote_addr\$uri zone=combo:1m rate=1r/m;
    limit_req_zone \$http_x_key zone=tiny:32k rate=1r/m;
    limit_req_zone \$http_x_key zone=keep:1m rate=1r/m;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /nodelay/ { limit_req zone=ten burst=5 nodelay; }
        location /delay/ { limit_req zone=ten burst=5; }
        location /delay2/ { limit_req zone=ten burst=5 delay=2; }
        location /two/ {
            limit_req zone=ten burst=5 nodelay;
            limit_req zone=minute burst=1 nodelay;
        }
        location /status/ {
            limit_req zone=minute;
            limit_req_status 429;
            limit_req_log_level warn;
            limit_req_headers on;
            error_page 429 /e429.html;
        }
        location = /e429.html { }
        location /dry/ { limit_req zone=minute; limit_req_dry_run on; }
        location /headers/ { limit_req zone=ten burst=2 nodelay; limit_req_headers on; }
        location /combo/ { limit_req zone=combo; }
        location /tiny/ { limit_req zone=tiny; }
        location /leave/ { limit_req zone=slow burst=5; }
        location /keep/ { limit_req zone=keep; }
    }
}
END

$t->write_conf($conf);

for my $dir (qw(nodelay delay delay2 two status dry headers combo tiny leave keep)) {
    $t->write_file("html/$dir/f", "ok\n");
}
$t->write_file('html/combo/a', "a\n");
$t->write_file('html/combo/b', "b\n");
$t->write_file('html/e429.html', "too many\n");

$t->plan(47);
$t->run();

# n GET requests for path pipelined on one connection (X-Key: key unless
# undef); returns the parsed responses in order.
sub pipelined
{
    my ($path, $n, $key, %opts) = @_;
    my $hdr = defined $key ? "X-Key: $key\r\n" : '';
    my $raw = '';
    for my $i (1 .. $n) {
        my $close = $i == $n ? "Connection: close\r\n" : '';
        $raw .= "GET $path HTTP/1.1\r\nHost: localhost\r\n$hdr$close\r\n";
    }
    return http_parse_all(http($raw, timeout => $opts{timeout} // 10));
}

sub statuses { return join ' ', map { $_->{status} } @_; }

# The access log lines for uri (and key), as "STATUS LIMIT_REQ_STATUS" strings.
sub logged
{
    my ($uri, $key) = @_;
    my @lines;
    # the log is written when a request ends: give the last one a moment
    sleep 0.1;
    for (split /\n/, $t->access_log() // '') {
        my ($u, $status, $lrs, $k) = split / /;
        next unless $u eq $uri && (!defined $key || ($k // '') eq $key);
        push @lines, "$status $lrs";
    }
    return @lines;
}

sub count_of { my ($what, @list) = @_; return scalar grep { $_ eq $what } @list; }

# --- burst, nodelay, delay= -----------------------------------------------------

# rate=10r/s burst=5 nodelay: a fresh key takes six at once, then 503
my @r = pipelined('/nodelay/f', 9, 'nd');
is(statuses(@r), '200 200 200 200 200 200 503 503 503', 'burst=5 nodelay: 6 at once, then 503');
like($t->error_log(), qr/\[error\].*limiting requests, excess: [56]\.\d{3} by zone "ten"/,
     'rejection logged at error with the excess');

# several limits: the strictest one rejects
@r = pipelined('/two/f', 4, 'two');
is(statuses(@r), '200 200 503 503', 'two limits: burst=1 of the second one wins');
like($t->error_log(), qr/limiting requests, excess: [12]\.\d{3} by zone "minute"/,
     'the rejecting zone is named');

# an empty key is not limited
@r = pipelined('/nodelay/f', 12, undef);
is(count_of(200, map { $_->{status} } @r), 12, 'empty key: never limited');
is(count_of('200 -', logged('/nodelay/f', '-')), 12, 'empty key: $limit_req_status is empty');

# concurrent requests on their own connections; returns [status, seconds
# after the first was sent] sorted by arrival of the answer
sub concurrent
{
    my ($path, $n, $key) = @_;
    my (@socks, %start);
    my $t0 = time();
    for (1 .. $n) {
        my $s = connect_raw() or next;
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nX-Key: $key\r\n"
            . "Connection: close\r\n\r\n";
        push @socks, $s;
    }
    my $sel = IO::Select->new(@socks);
    my %buf;
    my @done;
    my $deadline = $t0 + 10;
    while ($sel->count && time() < $deadline) {
        for my $s ($sel->can_read(0.05)) {
            my $n = sysread($s, $buf{$s}, 65536, length($buf{$s} // ''));
            next if defined $n && $n > 0;
            my $resp = http_parse($buf{$s});
            push @done, [$resp ? $resp->{status} : 0, time() - $t0];
            $sel->remove($s);
            close $s;
        }
    }
    return @done;
}

# rate=10r/s burst=5: the 1st at once, the 2nd..6th 100 ms apart, the 7th rejected
my @done = concurrent('/delay/f', 7, 'dl');
my @ok = map { $_->[1] } grep { $_->[0] == 200 } @done;
my @no = map { $_->[1] } grep { $_->[0] == 503 } @done;
is(scalar @ok . ' ' . scalar @no, '6 1', 'burst=5: six served, one rejected');
my @late = grep { $ok[$_] < $_ * 0.1 - 0.03 } 1 .. $#ok;
is("@late", '', 'delayed answers come in ~100 ms steps (lower bounds)');
ok(@no && @ok == 6 && $no[0] < $ok[5], 'the rejection is not delayed');
my @st = logged('/delay/f', 'dl');
is(count_of('200 DELAYED', @st) . ' ' . count_of('200 PASSED', @st) . ' '
   . count_of('503 REJECTED', @st), '5 1 1', '$limit_req_status: DELAYED, PASSED, REJECTED');
like($t->error_log(), qr/\[warn\].*delaying request, excess: \d\.\d{3}, by zone "ten"/,
     'delay logged one level below limit_req_log_level');

# delay=2: three at once, then 100 ms steps
@done = concurrent('/delay2/f', 7, 'd2');
@ok = map { $_->[1] } grep { $_->[0] == 200 } @done;
is(scalar @ok, 6, 'delay=2: six served');
@late = grep { $ok[$_] < ($_ - 2) * 0.1 - 0.03 } 3 .. $#ok;
is("@late", '', 'delay=2: the 4th..6th in ~100 ms steps');
@st = logged('/delay2/f', 'd2');
is(count_of('200 PASSED', @st) . ' ' . count_of('200 DELAYED', @st), '3 3',
   'delay=2: three passed, three delayed');

# --- status, error_page, dry run, keys -------------------------------------------------

@r = pipelined('/status/f', 2, 'st');
is(statuses(@r), '200 429', 'limit_req_status 429');
is($r[1]{body}, "too many\n", 'error_page 429 answers the rejection');
like($r[1]{headers}{'retry-after'} // '', qr/^6\d$/,
     'Retry-After survives the error page (1r/m: about a minute)');
like($t->error_log(), qr/\[warn\].*limiting requests, excess: 1\.000 by zone "minute"/,
     'limit_req_log_level warn');
is(join(',', logged('/e429.html', 'st')), '429 REJECTED', 'the error page is not limited again');

@r = pipelined('/dry/f', 3, 'dry');
is(statuses(@r), '200 200 200', 'dry run: nothing rejected');
is(join(',', logged('/dry/f', 'dry')), '200 PASSED,200 REJECTED_DRY_RUN,200 REJECTED_DRY_RUN',
   'dry run: $limit_req_status says REJECTED_DRY_RUN');
like($t->error_log(), qr/limiting requests, dry run, excess: 1\.000 by zone "minute"/,
     'dry run logged');

# $binary_remote_addr$uri: each URI its own bucket
is(statuses(pipelined('/combo/a', 2, undef)), '200 503', 'combined key: /combo/a limited');
is(statuses(pipelined('/combo/b', 1, undef)), '200', 'combined key: /combo/b has its own bucket');

# --- RateLimit fields -----------------------------------------------------------------

@r = pipelined('/headers/f', 4, 'hd');
is(statuses(@r), '200 200 200 503', 'headers: burst=2 nodelay');
is($r[0]{headers}{'ratelimit-policy'}, '"ten";q=3;w=1', 'RateLimit-Policy: capacity and window');
is(join(' | ', map { $_->{headers}{ratelimit} // 'none' } @r),
   '"ten";r=2;t=1 | "ten";r=1;t=1 | "ten";r=0;t=1 | "ten";r=0;t=1',
   'RateLimit: remaining counts down');
is($r[3]{headers}{'retry-after'}, 1, 'Retry-After on the rejection, rounded up');
ok(!defined $r[2]{headers}{'retry-after'}, 'no Retry-After when accepted');
ok(!defined((pipelined('/nodelay/f', 1, 'nh'))[0]{headers}{ratelimit}),
   'no RateLimit fields unless limit_req_headers is on');

# --- a full zone evicts the least recently used keys ----------------------------------

my $failed = 0;
my $served = 0;
for my $batch (0 .. 19) {
    my $raw = '';
    for my $i (0 .. 49) {
        my $k = $batch * 50 + $i;
        $raw .= "GET /tiny/f HTTP/1.1\r\nHost: localhost\r\nX-Key: key$k\r\n"
            . ($i == 49 ? "Connection: close\r\n" : '') . "\r\n";
    }
    for my $resp (http_parse_all(http($raw, timeout => 20))) {
        $served++;
        $failed++ if $resp->{status} != 200;
    }
}
is("$served $failed", '1000 0', 'tiny zone, 1000 keys: every fresh key served');
my @full = $t->error_log() =~ /(\[warn\].*limit_req zone "tiny" is full, evicting)/g;
is(scalar @full, 1, 'a full zone says so once, at warn');
unlike($t->error_log(), qr/\[(crit|alert)\].*tiny/, 'no allocation failure logged');
is(statuses(pipelined('/tiny/f', 1, 'key999')), '503', 'the most recent key is still limited');
is(statuses(pipelined('/tiny/f', 1, 'key0')), '200', 'the oldest key was evicted');

# --- a client that leaves while delayed --------------------------------------------------

is(statuses(pipelined('/leave/f', 1, 'lv')), '200', 'leave: first request at once');
{
    my $s = connect_raw();
    print $s "GET /leave/f HTTP/1.1\r\nHost: localhost\r\nX-Key: lv\r\n\r\n";
    sleep 0.2;
    close $s;
}
my $deadline = time() + 5;
sleep 0.05 until grep({ $_ eq '499 DELAYED' } logged('/leave/f', 'lv')) || time() > $deadline;
is(join(',', logged('/leave/f', 'lv')), '200 PASSED,499 DELAYED',
   'a client closing while delayed ends the request (499)');
like($t->error_log(), qr/client prematurely closed connection/, 'and it is logged');
is(statuses(pipelined('/nodelay/f', 1, 'after')), '200', 'the worker goes on serving');

# --- counters across a reload ----------------------------------------------------------

sub worker_pids
{
    my $master = $t->pid;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $stat) or next;
        my $line = <$f> // next;
        my ($kid, $ppid) = $line =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        push @kids, $kid if $ppid == $master;
    }
    return sort @kids;
}

# HUP, then wait (bounded) until none of the old workers is left
sub reload
{
    my %old = map { $_ => 1 } worker_pids();
    $t->signal('HUP');
    my $deadline = time() + 10;
    while (time() < $deadline) {
        my @now = worker_pids();
        last if @now && !grep { $old{$_} } @now;
        sleep 0.05;
    }
    return !grep { $old{$_} } worker_pids();
}

is(statuses(pipelined('/keep/f', 1, 'rl')), '200', 'before the reload: served');
$t->write_conf($conf . "# reloaded\n");
ok(reload(), 'reloaded: new workers');
is(statuses(pipelined('/keep/f', 1, 'rl')), '503', 'after the reload: the same bucket');

# a reload that changes a zone's key is refused, and the old one serves on
(my $bad = $conf) =~ s/\$http_x_key zone=keep/\$http_x_other zone=keep/;
$t->write_conf($bad);
$t->signal('HUP');
$deadline = time() + 5;
sleep 0.05 until $t->error_log() =~ /uses the/ || time() > $deadline;
like($t->error_log(),
     qr/limit_req "keep" uses the "\$http_x_other" key while previously it used the "\$http_x_key"/,
     'changing the key of a zone is refused');
is(statuses(pipelined('/keep/f', 1, 'rl')), '503', 'the old configuration goes on');

$t->stop();

# --- two workers share the buckets -----------------------------------------------------

my $t2 = Sluice::Test->new();
$t2->write_conf(<<"END");
error_log logs/error.log info;
worker_processes 2;
events { }
http {
    access_log off;
    root ${p}html;
    limit_req_zone \$binary_remote_addr zone=shared:1m rate=50r/s;
    server {
        listen 127.0.0.1:%%PORT_8081%% reuseport;
        location / { limit_req zone=shared burst=10 nodelay; }
    }
}
END
$t2->run();

# 400 requests, one connection each (reuseport spreads them over both workers),
# paced over about 2 seconds (4x the rate)
my ($accepted, $first, $last) = (0, undef, undef);
for my $i (0 .. 399) {
    my $at = time();
    $first //= $at;
    my $resp = http_parse(http_get('/nodelay/f', port => 8081));
    $accepted++ if $resp && $resp->{status} == 200;
    $last = time();
    my $next = $first + ($i + 1) * 0.005;
    sleep($next - time()) if $next > time();
}
my $allowed = 50 * ($last - $first) + 11;
my %pids = map { $_ => 1 } $t2->error_log() =~ /\] (\d+)#\d+: \*\d+ limiting requests/g;
ok(abs($accepted - $allowed) <= 0.1 * $allowed,
   sprintf('2 workers: %d accepted, the bucket allows %.0f', $accepted, $allowed));
is(scalar keys %pids, 2, '2 workers: both took requests (reuseport) and both rejected');
$t2->stop();

# --- configuration errors --------------------------------------------------------------------

my $e = Sluice::Test->new();
my @bad = (
    ['limit_req_zone $http_x_key zone=z:1m rate=10x/s;', qr/invalid rate "rate=10x\/s"/],
    ['limit_req_zone $http_x_key zone=z:1k rate=1r/s;', qr/zone "zone=z:1k" is too small/],
    ['limit_req_zone $http_x_key zone=z rate=1r/s;', qr/invalid zone size "zone=z"/],
    ['limit_req_zone $http_x_key rate=1r/s rate=2r/s;',
     qr/"limit_req_zone" must have "zone" parameter/],
    ['limit_req_zone $http_x_key zone=z:1m fast;', qr/invalid parameter "fast"/],
    ['limit_req_zone $a zone=z:1m rate=1r/s; limit_req_zone $b zone=z:1m rate=1r/s;',
     qr/limit_req_zone "z" is already bound to key "\$a"/],
    ['limit_req_zone $http_x_key zone=z:1m rate=1r/s; limit_req zone=z burst=0;',
     qr/invalid burst value "burst=0"/],
    ['limit_req_zone $http_x_key zone=z:1m rate=1r/s; limit_req zone=z delay=x;',
     qr/invalid delay value "delay=x"/],
    ['limit_req burst=5;', qr/"limit_req" must have "zone" parameter/],
    ['limit_req_zone $http_x_key zone=z:1m rate=1r/s; limit_req zone=z; limit_req zone=z;',
     qr/"limit_req" directive is duplicate/],
    ['limit_req zone=nowhere;', qr/zero size shared memory zone "nowhere"/],
    ['limit_req_status 600;', qr/it must be between 400 and 599/],
    ['limit_req_log_level debug;', qr/invalid value "debug"/],
    ['limit_conn_zone $a zone=z:1m; limit_req_zone $a zone=z:1m rate=1r/s;',
     qr/the shared memory zone "z" is already declared for a different use/],
);
my @seen;
for my $case (@bad) {
    $e->write_conf("events { }\nhttp { $case->[0] server { listen 127.0.0.1:%%PORT_8090%%; } }\n");
    my $out = $e->run_fail();
    push @seen, $out =~ $case->[1] ? 'ok' : "[$case->[0]: $out]";
}
is("@seen", join(' ', ('ok') x @bad), 'configuration errors are refused with nginx\'s messages');
