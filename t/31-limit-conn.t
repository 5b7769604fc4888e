#!/usr/bin/perl

# t/31-limit-conn.t: limit_conn across two workers. Requests are kept in
# progress with DAV PUTs whose body is held back: "Expect: 100-continue"
# makes the server say when a request got past the pre-access phase (it
# counted), and the rest of the body ends it. N such requests with one key
# are allowed, the next one is rejected; the count drops when a request
# finishes and when its client aborts; other keys and empty keys are not
# affected; limit_conn_status, limit_conn_log_level, limit_conn_dry_run,
# several zones, $limit_conn_status, a count held across a reload, and the
# configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use Test::More;
use Time::HiRes qw(time sleep);
use Sluice::Test qw(http_get http_parse read_response connect_raw is_closed);

my $t = Sluice::Test->new()->has(qw(http_limit_conn http_dav http_static));
my $p = $t->prefix;

my $conf = <<"END";
user root root;
error_log logs/error.log info;
worker_processes 2;
events { }
http {
    log_format lc '\$uri \$status \$limit_conn_status \$http_x_key';
    access_log logs/access.log lc;
    root ${p}html;
    client_body_timeout 10s;
    dav_methods PUT;

    limit_conn_zone \$http_x_key zone=conn:1m;
    limit_conn_zone \$http_x_key zone=other:1m;

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        location /put/ { limit_conn conn 2; }
        location /status/ { limit_conn conn 1; limit_conn_status 429; limit_conn_log_level warn; }
        location /dry/ { limit_conn conn 1; limit_conn_dry_run on; }
        location /two/ { limit_conn conn 5; limit_conn other 1; }
    }
}
END

$t->write_conf($conf);
$t->write_file("html/$_/.keep", '') for qw(put status dry two);
$t->write_file('html/put/file', "file\n");

$t->plan(27);
$t->run();

my $n = 0;

# Reads from s until the bytes seen match re or timeout seconds pass.
sub read_until
{
    my ($s, $re, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time() + $timeout;
    while (time() < $deadline && $buf !~ $re) {
        next unless $sel->can_read(0.05);
        my $got = sysread($s, $buf, 4096, length $buf);
        last unless $got;
    }
    return $buf;
}

# Starts a PUT under dir with X-Key: key whose body is held back. Returns
# (socket, status): status 100 when the request counted and waits for its
# body, else the final status it was answered with.
sub start_put
{
    my ($dir, $key) = @_;
    my $s = connect_raw() or return (undef, 0);
    $n++;
    my $hdr = defined $key ? "X-Key: $key\r\n" : '';
    print {$s} "PUT /$dir/f$n HTTP/1.1\r\nHost: localhost\r\n$hdr"
        . "Expect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n";
    my $got = read_until($s, qr/\r\n\r\n/, 5);
    my ($status) = $got =~ m{^HTTP/1\.1 (\d{3})};
    return ($s, $status // 0);
}

# Sends the body of a started PUT; returns the final status.
sub finish_put
{
    my ($s) = @_;
    print {$s} "body\n";
    my $r = http_parse(read_response($s, timeout => 5));
    # The count drops when the request is freed, just after the response
    # is written; the server closes the connection (Connection: close)
    # only after that, so a test that goes on after EOF sees it dropped.
    is_closed($s, 5);
    close $s;
    return $r ? $r->{status} : 0;
}

# The access log lines for a key, as "URI STATUS LIMIT_CONN_STATUS".
sub logged
{
    my ($key) = @_;
    sleep 0.1;
    return map { join ' ', (split / /)[0 .. 2] }
           grep { (split / /)[3] eq $key } split /\n/, ($t->access_log() // '');
}

# --- N in progress, the next one rejected, counts drop -------------------------------------

my ($s1, $c1) = start_put('put', 'a');
my ($s2, $c2) = start_put('put', 'a');
is("$c1 $c2", '100 100', 'limit_conn 2: two requests in progress');
my ($s3, $c3) = start_put('put', 'a');
is($c3, 503, 'the third one is rejected with 503');
close $s3;
like($t->error_log(), qr/\[error\].*limiting connections by zone "conn"/,
     'rejection logged at error');

my ($sb, $cb) = start_put('put', 'b');
is($cb, 100, 'another key has its own count');
is(finish_put($sb), 201, 'and completes');
is(http_parse(http_get('/put/file'))->{status}, 200, 'an empty key is not limited');

is(finish_put($s1), 201, 'one of the two finishes');
my ($s4, $c4) = start_put('put', 'a');
is($c4, 100, 'the count dropped when it finished: a new one is allowed');
my ($s5, $c5) = start_put('put', 'a');
is($c5, 503, 'and the limit holds again');
close $s5;

# a client that aborts mid-body frees its place
close $s2;
my ($s6, $c6) = (undef, 0);
my $deadline = time() + 5;
while (time() < $deadline) {
    ($s6, $c6) = start_put('put', 'a');
    last if $c6 == 100;
    close $s6 if $s6;
    sleep 0.1;
}
is($c6, 100, 'the count dropped when a client aborted');
is(finish_put($s4) . ' ' . finish_put($s6), '201 201', 'the others complete');

my @a = logged('a');
is(scalar(grep { / 201 PASSED$/ } @a), 3, '$limit_conn_status PASSED for the served');
ok(scalar(grep { / 503 REJECTED$/ } @a) >= 2, '$limit_conn_status REJECTED for the rejected');

($s1, $c1) = start_put('put', 'a');
is($c1, 100, 'nothing is left counted: a fresh request is allowed');
($s2, $c2) = start_put('put', 'a');
is($c2, 100, 'and a second one');
finish_put($_) for $s1, $s2;

# --- status, log level, dry run, several zones ----------------------------------------------

($s1, $c1) = start_put('status', 's');
($s2, $c2) = start_put('status', 's');
is("$c1 $c2", '100 429', 'limit_conn_status 429');
close $s2;
like($t->error_log(), qr/\[warn\].*limiting connections by zone "conn"/,
     'limit_conn_log_level warn');
is(finish_put($s1), 201, 'the first one completes');

($s1, $c1) = start_put('dry', 'd');
($s2, $c2) = start_put('dry', 'd');
is("$c1 $c2", '100 100', 'dry run: nothing rejected');
finish_put($_) for $s1, $s2;
is(join(',', sort map { (split / /)[2] } logged('d')), 'PASSED,REJECTED_DRY_RUN',
   'dry run: $limit_conn_status says REJECTED_DRY_RUN');
like($t->error_log(), qr/limiting connections, dry run, by zone "conn"/, 'dry run logged');

($s1, $c1) = start_put('two', 't');
($s2, $c2) = start_put('two', 't');
is("$c1 $c2", '100 503', 'two zones: the strictest rejects');
close $s2;
like($t->error_log(), qr/limiting connections by zone "other"/, 'the rejecting zone is named');
finish_put($s1);

# --- a reload keeps the count ---------------------------------------------------------------

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

# A request in progress in an old worker still counts for the new ones.
($s1, $c1) = start_put('status', 'r');
my %old = map { $_ => 1 } worker_pids();
$t->write_conf($conf . "# reloaded\n");
$t->signal('HUP');
$deadline = time() + 10;
sleep 0.05 until (grep { !$old{$_} } worker_pids()) >= 2 || time() > $deadline;
# the old workers close their listeners once the new ones run
sleep 0.3;
($s2, $c2) = start_put('status', 'r');
is("$c1 $c2", '100 429', 'after a reload the request in progress still counts');
close $s2 if $s2;
is(finish_put($s1), 201, 'the old worker finishes it');
($s2, $c2) = start_put('status', 'r');
is($c2, 100, 'and then the count is free');
finish_put($s2);

$t->stop();

# --- configuration errors --------------------------------------------------------------------

my $e = Sluice::Test->new();
my @bad = (
    ['limit_conn_zone $http_x_key zone=z:1k;', qr/zone "zone=z:1k" is too small/],
    ['limit_conn_zone $http_x_key zone=z:1m; limit_conn z 0;',
     qr/invalid number of connections "0"/],
    ['limit_conn_zone $http_x_key zone=z:1m; limit_conn z 1; limit_conn z 2;',
     qr/"limit_conn" directive is duplicate/],
    ['limit_conn nowhere 1;', qr/zero size shared memory zone "nowhere"/],
);
my @seen;
for my $case (@bad) {
    $e->write_conf("events { }\nhttp { $case->[0] server { listen 127.0.0.1:%%PORT_8090%%; } }\n");
    my $out = $e->run_fail();
    push @seen, $out =~ $case->[1] ? 'ok' : "[$case->[0]: $out]";
}
is("@seen", 'ok ok ok ok', 'configuration errors are refused with nginx\'s messages');
