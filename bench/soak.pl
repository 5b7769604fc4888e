#!/usr/bin/perl
#
# bench/soak.pl: a long run of mixed traffic against one Sluice (two
# workers), with the memory of every worker and of the master sampled
# throughout, to show that nothing grows once the workers are warm.
#
#   perl bench/soak.pl [--minutes N] [--quick] [--wrk-delay MS] [--reload-every N]
#
# The server proxies to an upstream group with keepalive (an nginx backend),
# sends static files, answers "return", rejects with a limit_req and a
# limit_conn zone, writes an access log and serves error pages. The load,
# all of it ending with the run:
#
#   - wrk (one thread, 32 keep-alive connections, each waiting a few ms
#     between requests, so that the machine is not starved) over a weighted
#     mix of paths: return, static files, proxied answers, a POST, a 404, the
#     limit_req and limit_conn locations, a too-large body;
#   - a Perl client opening a new connection per request: good requests,
#     404, malformed requests (400), too-large bodies (413), a down upstream
#     (502), bursts past limit_req (429), concurrent requests past limit_conn
#     (503), clients that abort mid-response or mid-request;
#   - three Perl slow clients: request heads and bodies trickled a few bytes
#     at a time, slow readers of 1 MB files (static and proxied), and clients
#     that send half a head and wait for client_header_timeout;
#   - a reload (HUP, with a configuration whose generation number changes)
#     every 5 minutes and a log reopen (USR1, after renaming the logs) in the
#     middle of every generation.
#
# Every minute the memory of each worker (Rss, Pss, Private_Dirty from
# /proc/PID/smaps_rollup), of the master, and of the shared memory zones
# (the Rss of the workers' shared anonymous mappings) is sampled and one
# row is printed with the requests the access log counted that minute and
# the errors by kind. Between the rows the memory is sampled every 10 s for
# the verdict: per worker generation, the growth after warm-up (the first 2
# minutes, and the first minute after each reload) in kB per minute, from a
# least-squares line through the samples (and one through their second
# half); and the master's growth across the reloads. --reload-every 0 runs
# one generation for the whole run. The verdict reports; the run fails
# only when a program it needs is missing or a server cannot start.
#
# With --quick a "minute" is 15 s and the run 8 of them (2 minutes, a
# reload every 3): to try the script out, not to judge memory.
#
# Environment: SLUICE_BINARY (default objs/sluice; copied first, so a
# rebuild does not change what runs), NGINX_BINARY (default /usr/sbin/nginx,
# the backend). A sanitizer build runs with a warning: its memory figures
# mean nothing, but its workers' LeakSanitizer reports (at each reload and
# at the end) are printed.
#
# Bounded: every socket operation has a deadline, every client process has
# an alarm past the end of the run, and every process started here (Sluice,
# the backend, wrk, the clients) is stopped by pid on every way out, with
# its graceful stop signal first and KILL after a timeout.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use FindBin;
use Getopt::Long;
use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h _exit);
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF SO_LINGER SO_RCVTIMEO SO_SNDTIMEO
              pack_sockaddr_in inet_aton);
use Time::HiRes qw(sleep time);

my $root = abs_path("$FindBin::Bin/..");
my $sluice_src = $ENV{SLUICE_BINARY} // "$root/objs/sluice";
my $nginx_bin = $ENV{NGINX_BINARY} // '/usr/sbin/nginx';

my $minutes = 30;
my $quick = 0;
my $wrk_delay_ms = 15;
my $reload_every = 5;
GetOptions('minutes=i' => \$minutes, 'quick' => \$quick, 'wrk-delay=i' => \$wrk_delay_ms,
           'reload-every=i' => \$reload_every)
    && $minutes >= 1 && $wrk_delay_ms >= 0 && $reload_every >= 0
    or die "usage: perl bench/soak.pl [--minutes N] [--quick] [--wrk-delay MS]"
    . " [--reload-every N]\n";

# A "minute" of the table, in seconds; the warm-up in minutes. With
# --reload-every 0 there is no reload, and a log reopen every 5 minutes.
my $interval = 60;
my $warmup = 2;
my $sample_every = 10;
if ($quick) {
    ($interval, $minutes, $reload_every, $sample_every) = (15, 8, 3, 5);
}
my $rotate_every = $reload_every || 5;
my $workers = 2;

# Processes started here: pid => name, and the signal of their graceful stop.
my %running;
my %stop_signal;
my $tmp;
my @server_pin;
my @client_pin;

$SIG{INT} = $SIG{TERM} = $SIG{HUP} = sub { die "soak: interrupted by SIG$_[0]\n" };
$SIG{PIPE} = 'IGNORE';
$| = 1;

END {
    my $status = $?;
    stop_all() if $tmp;
    $? = $status;
}

main();
exit 0;

sub main
{
    my $wrk = find_program('wrk') or die "soak: wrk not found (apt-get install wrk)\n";
    -x $nginx_bin or die "soak: $nginx_bin not found (apt-get install nginx)\n";
    -x $sluice_src or die "soak: $sluice_src not found (run make)\n";

    my $taskset = find_program('taskset');
    if ($taskset && online_cpus() >= 2) {
        @server_pin = ($taskset, '-c', '0');
        @client_pin = ($taskset, '-c', '1');
        system("$taskset -pc 1 $$ > /dev/null 2>&1");
    }

    $tmp = tempdir('sluice-soak-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $tmp;
    for my $d (qw(conf html html/static html/limited html/conn html/errors logs tmp tmp/body
                  tmp/proxy backend)) {
        mkdir "$tmp/$d" or die "soak: mkdir $tmp/$d: $!\n";
        chmod 0755, "$tmp/$d";
    }
    my $sluice_bin = "$tmp/sluice";
    copy($sluice_src, $sluice_bin) or die "soak: copy $sluice_src: $!\n";
    chmod 0755, $sluice_bin;

    write_sized("$tmp/html/static/1k.html", 1024);
    write_sized("$tmp/html/static/64k.bin", 65536);
    write_sized("$tmp/html/static/1m.bin", 1 << 20);
    write_sized("$tmp/html/limited/1k.html", 1024);
    write_sized("$tmp/html/conn/64k.bin", 65536);
    write_sized("$tmp/html/conn/1m.bin", 1 << 20);
    write_file("$tmp/html/errors/404.html", "soak 404 page\n");
    write_file("$tmp/html/errors/429.html", "soak 429 page\n");
    write_file("$tmp/html/errors/50x.html", "soak 50x page\n");
    write_sized("$tmp/backend/16k.bin", 16384);
    write_sized("$tmp/backend/1m.bin", 1 << 20);

    my %port = (sluice => free_port(), backend => free_port(), dead => free_port());

    my @warnings = build_warnings($sluice_bin);
    my $wall = $minutes * $interval;
    print "Sluice soak, ", scalar localtime, "\n";
    print "sluice: $sluice_src (", sluice_describe($sluice_bin), ")\n";
    printf "machine: %d CPUs, Linux %s, load average %s\n", online_cpus(),
        first_line('uname -r'), load_average();
    printf "run: %d x %d s, %d workers, %s, log reopen (USR1) every %d,"
        . " warm-up %d and 1 after each reload\n", $minutes, $interval, $workers,
        $reload_every ? "reload (HUP) every $reload_every" : 'no reload', $rotate_every,
        $warmup;
    printf "load: wrk -t1 -c32 (%d ms between requests per connection), 1 Perl client"
        . " (a new connection per request), 3 slow Perl clients\n", $wrk_delay_ms;
    print @server_pin
        ? "pinning: Sluice on CPU 0; the backend, wrk, the clients and this driver on CPU 1\n"
        : "pinning: none\n";
    print "\n", '!' x 78, "\n!! $_\n", '!' x 78, "\n" for @warnings;
    print "\n";

    # the backend: nginx, one worker, with the clients
    write_file("$tmp/conf/backend.conf", backend_conf(\%port), 0644);
    my $backend = start_process('backend', "$tmp/logs/backend.stderr", @client_pin,
                                $nginx_bin, '-p', "$tmp/", '-c', "$tmp/conf/backend.conf");
    $stop_signal{$backend} = 'QUIT';
    wait_listen('backend', $backend, $port{backend}, "$tmp/logs/backend.stderr");

    my $gen = 0;
    write_file("$tmp/conf/sluice.conf", sluice_conf(\%port, $gen), 0644);
    my $master = start_process('sluice', "$tmp/logs/sluice.stderr", @server_pin,
                               $sluice_bin, '-p', "$tmp/", '-c', "$tmp/conf/sluice.conf");
    $stop_signal{$master} = 'QUIT';
    wait_listen('sluice', $master, $port{sluice}, "$tmp/logs/sluice.stderr");
    sanity(\%port);

    my $t0 = time;
    my $end = $t0 + $wall;
    my @clients = (start_client('conn', \&conn_client, \%port, $end));
    push @clients, start_client("slow$_", \&slow_client, \%port, $end) for 1 .. 3;

    my $lua = "$tmp/conf/mix.lua";
    write_file($lua, wrk_script($wrk_delay_ms), 0644);

    my $access = {files => {"$tmp/logs/access.log" => 0}, counts => {}, rotated => []};
    my %gen_of;
    my %gen_start = (0 => 0);
    my @samples;        # {t (minutes), gen, pid, mem}
    my @master_before_reload;
    my $respawns = 0;
    my %client_prev;
    my @rows;
    my $header = sprintf('%4s %3s | %-20s | %-20s | %-13s | %5s | %7s %7s | %s', 'min', 'gen',
                         'w1 rss/pss/priv kB', 'w2 rss/pss/priv kB', 'master rss/prv',
                         'shm', 'served', 'wrk', 'errors and events that minute');
    print "$header\n", '-' x length($header), "\n";

    my $reloads = 0;
    for my $m (1 .. $minutes) {
        my $start = $t0 + ($m - 1) * $interval;
        sleep_until($start);
        my @events;
        if ($reload_every && $m > 1 && ($m - 1) % $reload_every == 0) {
            push @master_before_reload, {gen => $gen, mem => smaps_rollup($master)};
            $gen++;
            $reloads++;
            $gen_start{$gen} = ($m - 1) * $interval / 60;
            write_file("$tmp/conf/sluice.conf", sluice_conf(\%port, $gen), 0644);
            kill 'HUP', $master;
            push @events, 'HUP';
        }
        my $rotate_at = ($m - 1) % $rotate_every == int($rotate_every / 2) ? $start + $interval / 2
                                                                             : undef;

        my $wrk_secs = $interval - 2;
        my $wrk_out = "$tmp/logs/wrk.out";
        my $wrk_pid = start_process('wrk', $wrk_out, @client_pin, $wrk, '-t1', '-c32',
                                    "-d${wrk_secs}s", '--timeout', '10s', '-s', $lua,
                                    "http://127.0.0.1:$port{sluice}/");
        $stop_signal{$wrk_pid} = 'INT';

        # samples every $sample_every s; the row's sample a few seconds before the end
        my $row_at = $start + $interval - 4;
        my $next = $start + $sample_every;
        my $row_mem;
        while (1) {
            my $at = $next < $row_at ? $next : $row_at;
            if (defined $rotate_at && $rotate_at <= $at) {
                sleep_until($rotate_at);
                rotate_logs($access, $master);
                push @events, 'USR1';
                undef $rotate_at;
                next;
            }
            sleep_until($at);
            my $s = sample_workers($master, \%gen_of, $gen, \$respawns, \@events, $t0);
            push @samples, @$s;
            read_access($access);
            if ($at == $row_at) {
                $row_mem = $s;
                last;
            }
            $next += $sample_every;
        }

        my $deadline = time + 30;
        while (waitpid($wrk_pid, WNOHANG) != $wrk_pid) {
            if (time > $deadline) {
                stop_process($wrk_pid);
                die "soak: wrk did not finish within 30 s of its duration\n";
            }
            sleep 0.1;
        }
        delete $running{$wrk_pid};
        my %w = read_file($wrk_out) =~ /(\w+)=(\d+)/g;

        read_access($access);
        my $counts = $access->{counts};
        $access->{counts} = {};
        my %cl = client_counts(\@clients);
        my %delta = map { $_ => $cl{$_} - ($client_prev{$_} // 0) } keys %cl;
        %client_prev = %cl;

        push @rows, format_row($m, $gen, $row_mem, $master, $counts, \%w, \%delta, \@events);
        print "$rows[-1]\n";
    }
    push @master_before_reload, {gen => $gen, mem => smaps_rollup($master)};

    # the end: the clients first, then the server (gracefully), then the backend
    stop_process($_->{pid}) for @clients;
    stop_process($master);
    stop_process($backend);
    read_access($access);

    print "\n";
    print_client_problems(\@clients);
    print_verdict(\@samples, \%gen_start, \@master_before_reload, $respawns, $reloads);
    print_log_problems('sluice', "$tmp/logs/error.log", "$tmp/logs/sluice.stderr",
                       map { $_->{error} } @{$access->{rotated}});
    print "\n", '!' x 78, "\n!! $_\n", '!' x 78, "\n" for @warnings;
}

# --- configurations -------------------------------------------------------------

sub sluice_conf
{
    my ($port, $gen) = @_;
    return <<"END";
# bench/soak.pl, generation $gen
worker_processes $workers;
master_process on;
daemon off;
error_log $tmp/logs/error.log error;
pid $tmp/logs/sluice.pid;
worker_rlimit_nofile 4096;
worker_shutdown_timeout 10s;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    log_format soak '\$status \$body_bytes_sent \$request_time';
    access_log $tmp/logs/access.log soak;
    client_body_temp_path $tmp/tmp/body;
    proxy_temp_path $tmp/tmp/proxy;
    keepalive_timeout 30s;
    keepalive_requests 500;
    client_header_timeout 5s;
    client_body_timeout 10s;
    send_timeout 10s;

    limit_req_zone \$binary_remote_addr zone=soak_req:1m rate=50r/s;
    limit_req_status 429;
    limit_req_log_level warn;
    limit_conn_zone \$binary_remote_addr zone=soak_conn:1m;
    limit_conn_status 503;
    limit_conn_log_level warn;

    upstream backend {
        zone backend 64k;
        server 127.0.0.1:$port->{backend};
        keepalive 16;
    }
    upstream dead {
        server 127.0.0.1:$port->{dead};
    }

    server {
        listen 127.0.0.1:$port->{sluice};
        root $tmp/html;
        log_not_found off;
        error_page 404 /errors/404.html;
        error_page 429 /errors/429.html;
        error_page 500 502 503 504 /errors/50x.html;

        location = / { return 200 "soak generation $gen\\n"; }
        location /errors/ { internal; }
        location /static/ { }
        location /limited/ { limit_req zone=soak_req burst=10 nodelay; }
        location /conn/ { limit_conn soak_conn 4; }
        location /proxy/ {
            proxy_pass http://backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /upload {
            client_max_body_size 4k;
            proxy_pass http://backend/post;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /dead/ {
            proxy_pass http://dead;
            proxy_connect_timeout 2s;
        }
    }
}
END
}

sub backend_conf
{
    my ($port) = @_;
    return <<"END";
worker_processes 1;
master_process on;
daemon off;
error_log $tmp/logs/backend.error.log warn;
pid $tmp/logs/backend.pid;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path $tmp/tmp;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port->{backend};
        root $tmp/backend;
        location = / { return 200 "backend ok\\n"; }
        location = /post { client_max_body_size 1m; return 200 "posted\\n"; }
        location / { }
    }
}
END
}

# The mix of wrk's requests: path, method, body, weight.
sub wrk_script
{
    my ($delay) = @_;
    return <<"END";
local mix = {
    {"GET", "/", nil, 20},
    {"GET", "/static/1k.html", nil, 15},
    {"GET", "/static/64k.bin", nil, 4},
    {"GET", "/proxy/", nil, 20},
    {"GET", "/proxy/16k.bin", nil, 10},
    {"POST", "/proxy/post", string.rep("p", 2048), 5},
    {"GET", "/missing.html", nil, 5},
    {"GET", "/limited/1k.html", nil, 10},
    {"GET", "/conn/64k.bin", nil, 5},
    {"POST", "/upload", string.rep("u", 8192), 1},
}
local reqs = {}
-- built in init: the Host header (wrk.headers) is not set yet when the script loads
init = function(args)
    for _, m in ipairs(mix) do
        local r = wrk.format(m[1], m[2], nil, m[3])
        for i = 1, m[4] do reqs[#reqs + 1] = r end
    end
    math.randomseed(os.time())
end
request = function()
    return reqs[math.random(#reqs)]
end
delay = function()
    return $delay
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("SOAK requests=%d connect=%d read=%d write=%d status=%d timeout=%d\\n",
        summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
end
END
}

# --- clients ---------------------------------------------------------------------
#
# A client is a forked process running one loop until the end of the run; it
# keeps counts by kind and writes them to logs/client-NAME.counts every
# second (and when it stops), and the first 20 unexpected results to
# logs/client-NAME.problems.

sub start_client
{
    my ($name, $loop, $port, $end) = @_;
    my $counts = "$tmp/logs/client-$name.counts";
    my $problems = "$tmp/logs/client-$name.problems";
    my $pid = fork() // die "soak: fork: $!\n";
    if ($pid == 0) {
        my %c;
        my $n_problems = 0;
        my $flush_at = 0;
        my $flush = sub {
            open(my $f, '>', "$counts.new") or return;
            print $f map { "$_ $c{$_}\n" } sort keys %c;
            close $f;
            rename "$counts.new", $counts;
        };
        my $ctx = {
            port => $port->{sluice},
            count => sub { $c{$_[0]}++ },
            problem => sub {
                $c{unexpected}++;
                return if $n_problems++ >= 20;
                if (open(my $f, '>>', $problems)) {
                    printf $f "%.1f %s\n", time - ($end - $minutes * $interval), $_[0];
                    close $f;
                }
            },
        };
        $SIG{TERM} = sub { $flush->(); _exit(0) };
        $SIG{INT} = $SIG{HUP} = 'DEFAULT';
        alarm(int($end - time) + 120);
        srand($$ ^ time);
        # never leave through a die: the END block of the driver is not ours to run
        eval {
            while (time < $end) {
                $loop->($ctx);
                if (time >= $flush_at) {
                    $flush->();
                    $flush_at = time + 1;
                }
            }
            1;
        } or $ctx->{problem}->("client died: $@");
        $flush->();
        _exit(0);
    }
    $running{$pid} = "client $name";
    $stop_signal{$pid} = 'TERM';
    return {pid => $pid, name => $name, counts => $counts, problems => $problems};
}

sub client_counts
{
    my ($clients) = @_;
    my %sum;
    for my $c (@$clients) {
        open(my $f, '<', $c->{counts}) or next;
        while (<$f>) {
            $sum{$1} += $2 if /^(\S+) (\d+)$/;
        }
        close $f;
    }
    return %sum;
}

# One round of the new-connection client: every kind of request once.
sub conn_client
{
    my ($ctx) = @_;
    my @steps = (
        sub { expect($ctx, 'ok', "GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
                     200, qr/soak generation \d+/) },
        sub { expect($ctx, 'ok', "GET /proxy/ HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
                     200, qr/backend ok/) },
        sub { expect($ctx, 'ok',
                     "GET /static/1k.html HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
                     200, undef, 1024) },
        sub { expect($ctx, '404',
                     "GET /missing.html HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
                     404, qr/soak 404 page/) },
        sub { expect($ctx, '400', "GET / HTTP/1.1\r\nHost: soak\r\nNo colon here\r\n\r\n", 400) },
        sub { expect($ctx, '400', "GET / HTTP/1.1\r\n\r\n", 400) },
        sub { expect($ctx, '400', "G\x01T / HTTP/1.1\r\nHost: soak\r\n\r\n", 400) },
        sub { expect($ctx, '400', "GET / HTTP/1.1\r\nHost: soak\r\nContent-Length: 1\r\n"
                                      . "Content-Length: 2\r\n\r\nab", 400) },
        sub { expect($ctx, '413', "POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: 65536"
                                      . "\r\nConnection: close\r\n\r\n" . ('u' x 65536), 413) },
        sub { expect($ctx, '502', "GET /dead/ HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
                     502, qr/soak 50x page/) },
        sub { expect($ctx, 'ok', "POST /proxy/post HTTP/1.1\r\nHost: soak\r\nContent-Length: 2000"
                                     . "\r\nConnection: close\r\n\r\n" . ('b' x 2000), 200,
                     qr/posted/) },
        sub { limit_req_burst($ctx) },
        sub { limit_conn_crowd($ctx) },
        sub { abort_mid_response($ctx, '/static/1m.bin') },
        sub { abort_mid_response($ctx, '/proxy/1m.bin') },
        sub { abort_mid_request($ctx) },
    );
    for my $step (@steps) {
        $step->();
        sleep 0.01;
    }
}

# One of the slow clients' kinds, chosen at random.
sub slow_client
{
    my ($ctx) = @_;
    my @kinds = (
        \&trickle_head, \&trickle_body,
        sub { slow_reader($_[0], '/static/1m.bin') },
        sub { slow_reader($_[0], '/proxy/1m.bin') },
        \&header_timeout,
    );
    $kinds[int(rand(@kinds))]->($ctx);
}

# A blocking loopback connection with 15 s send and receive timeouts (so no
# operation can block longer); rcvbuf sets SO_RCVBUF first. undef on failure.
sub tcp_connect
{
    my ($ctx, %o) = @_;
    socket(my $s, PF_INET, SOCK_STREAM, 0) or return undef;
    my $tv = pack('l!l!', 15, 0);
    setsockopt($s, SOL_SOCKET, SO_RCVTIMEO, $tv);
    setsockopt($s, SOL_SOCKET, SO_SNDTIMEO, $tv);
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, $o{rcvbuf}) if $o{rcvbuf};
    if (!connect($s, pack_sockaddr_in($ctx->{port}, inet_aton('127.0.0.1')))) {
        $ctx->{count}->('connect-failed');
        $ctx->{problem}->("connect: $!");
        close $s;
        return undef;
    }
    binmode $s;
    return $s;
}

# Writes all of $data; false if the peer went away (or 15 s passed).
sub send_all
{
    my ($s, $data) = @_;
    while (length $data) {
        my $n = syswrite($s, $data);
        return 0 unless $n;
        substr($data, 0, $n, '');
    }
    return 1;
}

# Reads until the peer closes, up to $limit bytes, for at most $secs.
sub read_to_eof
{
    my ($s, $secs, $limit) = @_;
    my $buf = '';
    my $deadline = time + $secs;
    while (time < $deadline && (!$limit || length $buf < $limit)) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return $buf;
}

sub status_of
{
    my ($resp) = @_;
    return $resp =~ m{^HTTP/1\.[01] (\d{3}) } ? $1 : 0;
}

# Sends $req on a new connection and checks the whole answer: its status,
# and the body against a pattern or a length. Counts $kind when right.
sub expect
{
    my ($ctx, $kind, $req, $status, $body_re, $length) = @_;
    my $s = tcp_connect($ctx) or return;
    # the server may answer (413, 400) and close before it has read it all
    send_all($s, $req);
    my $resp = read_to_eof($s, 15);
    close $s;
    my $got = status_of($resp);
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    $body //= '';
    my $first = (split /\r\n/, $req)[0];
    if ($got != $status) {
        $ctx->{problem}->("\"$first\": status $got, expected $status ("
                          . length($resp) . ' bytes)');
    } elsif ($body_re && $body !~ $body_re) {
        $ctx->{problem}->("\"$first\": body does not match $body_re");
    } elsif (defined $length && length $body != $length) {
        $ctx->{problem}->("\"$first\": body of " . length($body) . " bytes, expected $length");
    } else {
        $ctx->{count}->($kind);
    }
}

# 25 requests to the limit_req location as fast as one client can: the
# zone (50 r/s, burst 10) rejects some with 429.
sub limit_req_burst
{
    my ($ctx) = @_;
    for (1 .. 25) {
        my $s = tcp_connect($ctx) or return;
        send_all($s, "GET /limited/1k.html HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n");
        my $resp = read_to_eof($s, 15);
        close $s;
        my $got = status_of($resp);
        if ($got == 200) {
            $ctx->{count}->('ok');
        } elsif ($got == 429 && $resp =~ /soak 429 page/) {
            $ctx->{count}->('429');
        } else {
            $ctx->{problem}->("limit_req burst: status $got");
        }
    }
}

# 6 requests at once for a 1 MB file of the limit_conn location (4 per
# address): the last ones get 503 while the first hold their slot (their
# answers are not read past the first bytes); then all are dropped.
sub limit_conn_crowd
{
    my ($ctx) = @_;
    my @socks;
    for (1 .. 6) {
        my $s = tcp_connect($ctx, rcvbuf => 4096) or last;
        send_all($s, "GET /conn/1m.bin HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n");
        push @socks, $s;
        # let this one reach the content phase before the next arrives
        sleep 0.01;
    }
    for my $s (@socks) {
        my $resp = '';
        my $deadline = time + 15;
        while (time < $deadline && $resp !~ /\r\n\r\n/) {
            my $n = sysread($s, $resp, 4096, length $resp);
            last unless $n;
        }
        my $got = status_of($resp);
        if ($got == 200) {
            $ctx->{count}->('abort');
        } elsif ($got == 503) {
            $ctx->{count}->('503');
        } else {
            $ctx->{problem}->("limit_conn crowd: status $got");
        }
    }
    close $_ for @socks;
}

# Reads the head and a few kB of a 1 MB answer and goes away, with a reset
# half of the time (SO_LINGER 0), with a FIN otherwise.
sub abort_mid_response
{
    my ($ctx, $path) = @_;
    my $s = tcp_connect($ctx, rcvbuf => 4096) or return;
    send_all($s, "GET $path HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n");
    my $resp = read_to_eof($s, 15, 8192);
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if rand() < 0.5;
    close $s;
    if (status_of($resp) == 200) {
        $ctx->{count}->('abort');
    } else {
        $ctx->{problem}->("abort mid-response $path: status " . status_of($resp));
    }
}

# Half a request head, or a head and half its body, then gone.
sub abort_mid_request
{
    my ($ctx) = @_;
    my $s = tcp_connect($ctx) or return;
    if (rand() < 0.5) {
        send_all($s, "GET /proxy/ HTTP/1.1\r\nHost: so");
    } else {
        send_all($s, "POST /proxy/post HTTP/1.1\r\nHost: soak\r\nContent-Length: 4000\r\n\r\n"
                     . ('h' x 1000));
    }
    sleep 0.02;
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if rand() < 0.5;
    close $s;
    $ctx->{count}->('abort');
}

# A request head a byte at a time, 40 ms apart (about 2 s).
sub trickle_head
{
    my ($ctx) = @_;
    my $s = tcp_connect($ctx) or return;
    my $req = "GET /proxy/ HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
    for my $i (0 .. length($req) - 1) {
        last unless send_all($s, substr($req, $i, 1));
        sleep 0.04;
    }
    my $resp = read_to_eof($s, 15);
    close $s;
    if (status_of($resp) == 200 && $resp =~ /backend ok/) {
        $ctx->{count}->('slow');
    } else {
        $ctx->{problem}->('trickled head: status ' . status_of($resp));
    }
}

# A 3000-byte body in 300-byte pieces 200 ms apart (about 2 s), proxied.
sub trickle_body
{
    my ($ctx) = @_;
    my $s = tcp_connect($ctx) or return;
    send_all($s, "POST /proxy/post HTTP/1.1\r\nHost: soak\r\nContent-Length: 3000\r\n"
                 . "Connection: close\r\n\r\n");
    for (1 .. 10) {
        sleep 0.2;
        last unless send_all($s, 't' x 300);
    }
    my $resp = read_to_eof($s, 15);
    close $s;
    if (status_of($resp) == 200 && $resp =~ /posted/) {
        $ctx->{count}->('slow');
    } else {
        $ctx->{problem}->('trickled body: status ' . status_of($resp));
    }
}

# A 1 MB answer read 8 kB every 20 ms through a 4 kB receive buffer (about
# 3 s), checked whole.
sub slow_reader
{
    my ($ctx, $path) = @_;
    my $s = tcp_connect($ctx, rcvbuf => 4096) or return;
    send_all($s, "GET $path HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n");
    my $resp = '';
    my $deadline = time + 30;
    while (time < $deadline) {
        my $n = sysread($s, $resp, 8192, length $resp);
        last unless $n;
        sleep 0.02;
    }
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    if (status_of($resp) == 200 && length($body // '') == 1 << 20) {
        $ctx->{count}->('slow');
    } else {
        $ctx->{problem}->("slow reader $path: status " . status_of($resp) . ', '
                          . length($body // '') . ' body bytes');
    }
}

# Half a head, then silence: the server must close at client_header_timeout
# (5 s), answering 408 or nothing.
sub header_timeout
{
    my ($ctx) = @_;
    my $s = tcp_connect($ctx) or return;
    send_all($s, "GET / HTTP/1.1\r\nHost: soak\r\n");
    my $start = time;
    my $resp = read_to_eof($s, 14);
    my $took = time - $start;
    close $s;
    my $got = status_of($resp);
    if ($took < 13 && ($got == 408 || $resp eq '')) {
        $ctx->{count}->('header-timeout');
    } else {
        $ctx->{problem}->(sprintf('header timeout: status %d after %.1f s', $got, $took));
    }
}

sub print_client_problems
{
    my ($clients) = @_;
    my %c = client_counts($clients);
    print "clients over the run: ", join(' ', map { "$_=$c{$_}" } sort keys %c), "\n";
    for my $cl (@$clients) {
        my $text = read_file($cl->{problems});
        next if $text eq '';
        print "client $cl->{name}, first unexpected results (s since start):\n";
        print map { "  $_\n" } split /\n/, $text;
    }
}

# --- the server's view ------------------------------------------------------------

# One request of each main kind before the load: a wrong answer is fatal.
sub sanity
{
    my ($port) = @_;
    my @errs;
    my $ctx = {port => $port->{sluice}, count => sub { }, problem => sub { push @errs, $_[0] }};
    expect($ctx, 'ok', "GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", 200);
    expect($ctx, 'ok', "GET /proxy/ HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", 200,
           qr/backend ok/);
    expect($ctx, 'ok', "GET /static/1k.html HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
           200, undef, 1024);
    expect($ctx, '502', "GET /dead/ HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n", 502,
           qr/soak 50x page/);
    die "soak: the server does not answer as expected:\n" . join("\n", @errs) . "\n" if @errs;
}

# Counts the new lines of the access logs by status.
sub read_access
{
    my ($al) = @_;
    for my $file (keys %{$al->{files}}) {
        open(my $f, '<', $file) or next;
        seek($f, $al->{files}{$file}, 0);
        my $pos = $al->{files}{$file};
        while (my $line = <$f>) {
            # a line still being written is counted next time
            last unless $line =~ /\n$/;
            $pos += length $line;
            $al->{counts}{$1}++ if $line =~ /^(\d{3}) /;
        }
        $al->{files}{$file} = $pos;
        close $f;
    }
}

# Renames the logs, sends USR1 and forgets the files of the reopen before;
# the renamed access log is read to its end first.
sub rotate_logs
{
    my ($al, $master) = @_;
    my $n = @{$al->{rotated}} + 1;
    for my $old (@{$al->{rotated}}) {
        next if $old->{gone};
        read_access($a);
        delete $al->{files}{$old->{access}};
        unlink $old->{access};
        $old->{gone} = 1;
    }
    my $access = "$tmp/logs/access.log.$n";
    my $error = "$tmp/logs/error.log.$n";
    read_access($a);
    rename "$tmp/logs/access.log", $access;
    rename "$tmp/logs/error.log", $error;
    $al->{files}{$access} = delete $al->{files}{"$tmp/logs/access.log"} // 0;
    $al->{files}{"$tmp/logs/access.log"} = 0;
    push @{$al->{rotated}}, {access => $access, error => $error};
    kill 'USR1', $master;
}

# --- memory --------------------------------------------------------------------------

# kB figures of /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty, ...); {} if gone.
sub smaps_rollup
{
    my ($pid) = @_;
    my %m;
    open(my $f, '<', "/proc/$pid/smaps_rollup") or return \%m;
    while (<$f>) {
        $m{$1} = $2 if /^(\w+):\s+(\d+) kB/;
    }
    close $f;
    return \%m;
}

# The Rss (kB) of a process's shared anonymous mappings: the shm zones.
sub shm_rss
{
    my ($pid) = @_;
    open(my $f, '<', "/proc/$pid/smaps") or return undef;
    my ($in, $rss) = (0, 0);
    while (<$f>) {
        if (/^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/) {
            my ($perms, $name) = ($1, $2);
            $in = $perms =~ /s/ && $name =~ m{^/dev/zero|^\[anon_shmem\]|^/SYSV} ? 1 : 0;
        } elsif ($in && /^Rss:\s+(\d+) kB/) {
            $rss += $1;
        }
    }
    close $f;
    return $rss;
}

# Samples the memory of the master's workers; each new worker pid is given
# generation $gen (the one of the last reload), and one past the $workers a
# generation starts is counted as a replacement. Returns the samples.
sub sample_workers
{
    my ($master, $gen_of, $gen, $respawns, $events, $t0) = @_;
    my @s;
    my $t = (time - $t0) / 60;
    for my $pid (children($master)) {
        if (!exists $gen_of->{$pid}) {
            my $n = grep { $_ == $gen } values %$gen_of;
            if ($n >= $workers) {
                $$respawns++;
                push @$events, 'RESPAWN';
            }
            $gen_of->{$pid} = $gen;
        }
        my $mem = smaps_rollup($pid);
        next unless %$mem;
        push @s, {t => $t, gen => $gen_of->{$pid}, pid => $pid, mem => $mem};
    }
    return \@s;
}

sub format_row
{
    my ($m, $gen, $mem, $master, $counts, $wrk, $clients, $events) = @_;
    my @cur = sort { $a->{pid} <=> $b->{pid} } grep { $_->{gen} == $gen } @$mem;
    my $old = grep { $_->{gen} != $gen } @$mem;
    my @w;
    for my $i (0 .. 1) {
        my $s = $cur[$i];
        push @w, $s ? sprintf('%6d/%6d/%6d', $s->{mem}{Rss}, $s->{mem}{Pss},
                              $s->{mem}{Private_Dirty})
                    : sprintf('%20s', '-');
    }
    my $mm = smaps_rollup($master);
    my $shm = 0;
    for my $s (@cur) {
        my $r = shm_rss($s->{pid}) // 0;
        $shm = $r if $r > $shm;
    }
    my $served = 0;
    $served += $_ for values %$counts;
    my @err;
    push @err, map { "$_:$counts->{$_}" } grep { $_ >= 400 } sort keys %$counts;
    for my $k (qw(abort slow header-timeout connect-failed unexpected)) {
        push @err, "$k:$clients->{$k}" if $clients->{$k};
    }
    my $wrk_err = ($wrk->{connect} // 0) + ($wrk->{read} // 0) + ($wrk->{write} // 0)
        + ($wrk->{timeout} // 0);
    push @err, "wrk-sock:$wrk_err" if $wrk_err;
    push @err, "no-wrk-report" unless defined $wrk->{requests};
    push @err, "old-workers:$old" if $old;
    push @err, @$events;
    return sprintf('%4s %3d | %s | %s | %6d/%6d | %5d | %7d %7d | %s',
                   $quick ? sprintf('%.2f', $m * $interval / 60) : $m, $gen, @w,
                   $mm->{Rss} // 0, $mm->{Private_Dirty} // 0, $shm, $served,
                   $wrk->{requests} // 0, join(' ', @err));
}

# Least-squares slope of y over x.
sub slope
{
    my ($pts) = @_;
    my $n = @$pts;
    return undef if $n < 2;
    my ($sx, $sy) = (0, 0);
    $sx += $_->[0], $sy += $_->[1] for @$pts;
    my ($mx, $my) = ($sx / $n, $sy / $n);
    my ($num, $den) = (0, 0);
    for (@$pts) {
        $num += ($_->[0] - $mx) * ($_->[1] - $my);
        $den += ($_->[0] - $mx) ** 2;
    }
    return $den ? $num / $den : undef;
}

sub print_verdict
{
    my ($samples, $gen_start, $master_mem, $respawns, $reloads) = @_;
    my $minute = $interval / 60;
    print "Verdict: growth after warm-up, least-squares kB per minute over the samples every"
        . " $sample_every s\n";
    print "(priv/min: Private_Dirty over all of them; late: over their second half, where a"
        . " warm-up step no longer counts and a leak still does)\n";
    printf "%3s %8s %7s %11s %-21s %8s %8s %8s %8s\n", 'gen', 'worker', 'samples', 'minutes',
        'Private_Dirty first-last', 'priv/min', 'late', 'rss/min', 'pss/min';
    my %by;
    push @{$by{$_->{gen}}{$_->{pid}}}, $_ for @$samples;
    my ($worst, $worst_late, $peak) = (0, 0, 0);
    for my $g (sort { $a <=> $b } keys %by) {
        my $skip = $g == 0 ? $warmup * $minute : $gen_start->{$g} + $minute;
        for my $pid (sort { $a <=> $b } keys %{$by{$g}}) {
            my @s = grep { $_->{t} >= $skip } @{$by{$g}{$pid}};
            # a worker of an older generation draining after a reload is not steady
            my $end_of_gen = $gen_start->{$g + 1};
            @s = grep { $_->{t} < $end_of_gen } @s if defined $end_of_gen;
            if (@s < 4) {
                printf "%3d %8d %7d   (too few samples after warm-up)\n", $g, $pid, scalar @s;
                next;
            }
            my %sl;
            for my $k (qw(Private_Dirty Rss Pss)) {
                # kB per minute: t is in minutes of wall time
                $sl{$k} = slope([map { [$_->{t}, $_->{mem}{$k} // 0] } @s]);
            }
            my @late = @s[int(@s / 2) .. $#s];
            my $late = slope([map { [$_->{t}, $_->{mem}{Private_Dirty} // 0] } @late]);
            $worst = $sl{Private_Dirty} if $sl{Private_Dirty} > $worst;
            $worst_late = $late if $late > $worst_late;
            for (@s) {
                $peak = $_->{mem}{Private_Dirty} if $_->{mem}{Private_Dirty} > $peak;
            }
            printf "%3d %8d %7d %5.1f-%5.1f %10d - %8d %8.1f %8.1f %8.1f %8.1f\n", $g, $pid,
                scalar @s, $s[0]{t}, $s[-1]{t}, $s[0]{mem}{Private_Dirty},
                $s[-1]{mem}{Private_Dirty}, $sl{Private_Dirty}, $late, $sl{Rss}, $sl{Pss};
        }
    }
    printf "largest worker Private_Dirty growth after warm-up: %.1f kB/min over the window,"
        . " %.1f kB/min over its second half (%s); highest Private_Dirty of any worker after"
        . " warm-up: %d kB\n", $worst, $worst_late,
        $worst_late < 4 ? 'flat: under one 4 kB page a minute' : 'GROWTH: see above', $peak;

    print "master before each reload and at the end (kB):";
    printf ' gen %d rss %d priv %d;', $_->{gen}, $_->{mem}{Rss} // 0,
        $_->{mem}{Private_Dirty} // 0 for @$master_mem;
    print "\n";
    if (@$master_mem >= 2 && $reloads) {
        my ($first, $last) = ($master_mem->[0]{mem}, $master_mem->[-1]{mem});
        printf "master growth across %d reloads: Rss %+d kB, Private_Dirty %+d kB"
            . " (%+.1f kB per reload)", $reloads, ($last->{Rss} // 0) - ($first->{Rss} // 0),
            ($last->{Private_Dirty} // 0) - ($first->{Private_Dirty} // 0),
            (($last->{Private_Dirty} // 0) - ($first->{Private_Dirty} // 0)) / $reloads;
        if ($reloads >= 2) {
            # the first reload allocates the second cycle; the later ones should reuse
            my $second = $master_mem->[1]{mem};
            printf "; after the first: Private_Dirty %+d kB (%+.1f kB per reload)",
                ($last->{Private_Dirty} // 0) - ($second->{Private_Dirty} // 0),
                (($last->{Private_Dirty} // 0) - ($second->{Private_Dirty} // 0))
                    / ($reloads - 1);
        }
        print "\n";
    }
    print "workers replaced outside reloads: $respawns\n";
}

sub print_log_problems
{
    my ($name, @files) = @_;
    my (@bad, @san, $err);
    $err = 0;
    my %kinds;
    for my $file (@files) {
        open(my $f, '<', $file) or next;
        while (<$f>) {
            push @bad, $_ if /\[(alert|crit|emerg)\]|exited on signal/;
            push @san, $_ if /LeakSanitizer|AddressSanitizer|runtime error:|SUMMARY:/;
            if (/\[error\] \d+#\d+: (?:\*\d+ )?(.*?)(?:,| while| \(|$)/) {
                $err++;
                my $k = $1;
                $k =~ s/\d+/N/g;
                $kinds{$k}++;
            }
        }
        close $f;
    }
    print "$name error log: $err [error] lines";
    my @top = sort { $kinds{$b} <=> $kinds{$a} } keys %kinds;
    splice(@top, 5) if @top > 5;
    print ': ', join('; ', map { "$kinds{$_} x $_" } @top) if @top;
    print "\n";
    printf "%s: %d alert/crit/emerg or crash lines%s", $name, scalar @bad,
        @bad ? ", first:\n  $bad[0]" : "\n";
    if (@san) {
        print "sanitizer reports (", scalar @san, " lines), first:\n";
        print map { "  $_" } @san[0 .. ($#san < 19 ? $#san : 19)];
    }
}

# --- processes -------------------------------------------------------------------------

sub start_process
{
    my ($name, $out, @argv) = @_;
    my $pid = fork() // die "soak: fork: $!\n";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE);
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $out) or _exit(127);
        open(STDERR, '>&', \*STDOUT) or _exit(127);
        exec { $argv[0] } @argv or print STDERR "exec $argv[0]: $!\n";
        _exit(127);
    }
    $running{$pid} = $name;
    return $pid;
}

sub wait_listen
{
    my ($name, $pid, $port, $out) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $running{$pid};
            die "soak: $name exited at start (status $?):\n" . read_file($out)
                . read_file("$tmp/logs/error.log");
        }
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        if ($s) {
            close $s;
            return;
        }
        sleep 0.05;
    }
    die "soak: $name did not listen on 127.0.0.1:$port within 10 s:\n" . read_file($out);
}

# Its stop signal, then KILL after 20 s; its descendants found before are
# killed too if they outlive it by 5 s.
sub stop_process
{
    my ($pid) = @_;
    return unless $running{$pid};
    my @kids = descendants($pid);
    my $signal = $stop_signal{$pid} // 'QUIT';
    kill $signal, $pid;
    my $deadline = time + 20;
    my $gone = 0;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) != 0) {
            $gone = 1;
            last;
        }
        sleep 0.05;
    }
    unless ($gone) {
        print "warning: $running{$pid} (pid $pid) ignored $signal for 20 s; killing it\n";
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    $deadline = time + 5;
    while (my @left = grep { kill 0, $_ } @kids) {
        if (time > $deadline) {
            kill 'KILL', @left;
            last;
        }
        sleep 0.05;
    }
    delete $running{$pid};
    delete $stop_signal{$pid};
}

sub stop_all
{
    # the clients and wrk first, then the server, the backend last
    my %rank = (sluice => 1, backend => 2);
    stop_process($_) for sort { ($rank{$running{$a}} // 0) <=> ($rank{$running{$b}} // 0) }
        keys %running;
}

# The live (not zombie) children of pid.
sub children
{
    my ($pid) = @_;
    my @c;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $stat) or next;
        my $line = <$f> // next;
        close $f;
        my ($kid, $state, $ppid) = $line =~ /^(\d+) \(.*\) (\S) (\d+)/s or next;
        push @c, $kid + 0 if $ppid == $pid && $state ne 'Z';
    }
    return sort { $a <=> $b } @c;
}

sub descendants
{
    my ($top) = @_;
    my %kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $stat) or next;
        my $line = <$f> // next;
        close $f;
        my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S (\d+)/s or next;
        push @{$kids{$ppid}}, $pid;
    }
    my @all;
    my @queue = ($top);
    while (defined(my $p = shift @queue)) {
        for my $k (@{$kids{$p} // []}) {
            push @all, $k;
            push @queue, $k;
        }
    }
    return @all;
}

# --- helpers ---------------------------------------------------------------------------

sub sleep_until
{
    my ($t) = @_;
    my $d = $t - time;
    sleep $d if $d > 0;
}

sub find_program
{
    my ($prog) = @_;
    for my $dir (split(/:/, $ENV{PATH} // '/usr/bin:/bin'), '/usr/sbin', '/sbin') {
        return "$dir/$prog" if -x "$dir/$prog" && !-d _;
    }
    return undef;
}

sub online_cpus
{
    my $n = `getconf _NPROCESSORS_ONLN 2>/dev/null`;
    return ($n // '') =~ /^(\d+)/ ? $1 : 1;
}

sub load_average
{
    my @f = split ' ', first_line('cat /proc/loadavg 2>/dev/null');
    return @f >= 3 ? "@f[0 .. 2]" : 'unknown';
}

sub first_line
{
    my ($cmd) = @_;
    my @out = `$cmd`;
    my $line = $out[0] // '';
    chomp $line;
    return $line;
}

sub sluice_describe
{
    my ($bin) = @_;
    my ($args) = `'$bin' -V 2>&1` =~ /configure arguments:[ \t]*(.*)/;
    return defined $args && $args ne '' ? "configure $args" : 'configure with defaults';
}

sub build_warnings
{
    my ($bin) = @_;
    my $v = `'$bin' -V 2>&1`;
    my @w;
    push @w, "a SANITIZER build: its memory figures mean nothing (LeakSanitizer reports are"
        . " printed at the end)" if $v =~ /sanitize/i;
    push @w, 'a DEBUG build: not what runs in production' if $v =~ /--with-debug/;
    return @w;
}

sub free_port
{
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  ReuseAddr => 1)
        or die "soak: cannot find a free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub write_sized
{
    my ($path, $size) = @_;
    write_file($path, substr('0123456789abcdef' x ($size / 16 + 1), 0, $size), 0644);
}

sub write_file
{
    my ($path, $data, $mode) = @_;
    open(my $f, '>', $path) or die "soak: write $path: $!\n";
    print $f $data;
    close $f or die "soak: write $path: $!\n";
    chmod($mode // 0644, $path);
}

sub read_file
{
    my ($path) = @_;
    open(my $f, '<', $path) or return '';
    local $/;
    my $text = <$f>;
    close $f;
    return $text // '';
}
