<?php
// The PHP client's tests, a plain runner (no PHPUnit needed): against a real
// kontingent-server started here on 127.0.0.1, and against a hostile fake one.
// Ends with "N passed, N failed"; exits non-zero on a failure.
declare(strict_types=1);

spl_autoload_register(function (string $class): void {
    $file = __DIR__ . '/../src/' . str_replace(['Kontingent\\', '\\'], ['', '/'], $class) . '.php';
    if (is_file($file)) {
        require $file;
    }
});

use Kontingent\Client;
use Kontingent\Exception as E;
use Kontingent\Outcome as O;
use Kontingent\Refusal as R;

$passed = 0;
$failed = 0;
function check(string $name, callable $test): void
{
    global $passed, $failed;
    try {
        $test();
        $passed++;
        echo "ok   {$name}\n";
    } catch (\Throwable $e) {
        $failed++;
        echo "FAIL {$name}: " . get_class($e) . ': ' . $e->getMessage() . "\n";
    }
}
function same(mixed $want, mixed $got, string $what = ''): void
{
    if ($want != $got) {
        throw new \RuntimeException("{$what}: wanted " . var_export($want, true) . ', got ' . var_export($got, true));
    }
}
function throws(string $class, callable $f, ?string $code = null): E\KontingentException
{
    try {
        $f();
    } catch (E\KontingentException $e) {
        if (!($e instanceof $class)) {
            throw new \RuntimeException("wanted {$class}, got " . get_class($e) . ": {$e->getMessage()}");
        }
        if ($code !== null && $e->errorCode !== $code) {
            throw new \RuntimeException("wanted code {$code}, got {$e->errorCode}: {$e->getMessage()}");
        }
        return $e;
    }
    throw new \RuntimeException("wanted {$class}, nothing was thrown");
}
function free_port(): int
{
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int) explode(':', stream_socket_get_name($s, false))[1];
    fclose($s);
    return $port;
}

$root = realpath(__DIR__ . '/../../..');
$dir = sys_get_temp_dir() . '/kontingent-php-' . bin2hex(random_bytes(4));
mkdir($dir);
// 2026-05-04 09:00 UTC; sales open an hour later.
$t0 = 1_777_885_200_000;
file_put_contents("{$dir}/c.toml", <<<TOML
opens_at = "2026-05-04T10:00:00Z"
[[pools]]
name = "zur-post"
capacity = 2
[[offers]]
name = "zur-post-20"
price = 2000
draws = { "zur-post" = 1 }
[[rules]]
name = "one-per-customer"
kind = "customer_limit"
units = 1
TOML);
$server = proc_open([
    getenv('KONTINGENT_SERVER') ?: "{$root}/target/debug/kontingent-server",
    '--journal', "emstek={$dir}/j", '--catalog', "emstek={$dir}/c.toml",
    '--listen', '127.0.0.1:0', '--clock', "manual:{$t0}",
], [1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null,
    ['KONTINGENT_CLIENT_KEY' => 'client-key-0123456789', 'KONTINGENT_OPERATOR_KEY' => 'operator-key-0123456789', 'KONTINGENT_LOG' => 'error']);
$line = fgets($pipes[1]);
if (!preg_match('#listening on (http://\S+)#', (string) $line, $m)) {
    fwrite(STDERR, "the server did not start: {$line}\n");
    exit(1);
}
$base = $m[1];
$k = new Client($base, 'client-key-0123456789', 'emstek', timeout: 5.0);
$op = new Client($base, 'operator-key-0123456789', 'emstek');
$setClock = function (int $at) use ($base): void {
    $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Authorization: Bearer operator-key-0123456789\r\nContent-Type: application/json", 'content' => json_encode(['at' => $at]), 'ignore_errors' => true]]);
    file_get_contents("{$base}/v1/clock", false, $ctx);
};

check('before the opening: refused not_open_yet, with the time for a countdown', function () use ($k, $t0) {
    $o = $k->reserve(Client::newRequestId(), 'ben@example.org', [['zur-post-20', 1]]);
    same(O\Refused::class, get_class($o), 'class');
    same(R\NotOpenYet::class, get_class($o->reason), 'reason');
    same($t0 + 3_600_000, $o->reason->opensAt, 'opens at');
    // What a form shows before it is posted, by the clock that judges.
    same(R\NotOpenYet::class, get_class($k->whyUnavailable('zur-post-20')), 'why unavailable');
    same($t0, $k->now(), 'the server clock');
    same(['status' => 'ok'], $k->health(), 'health');
});
$setClock($t0 + 3_600_000 + 1000);
check('held, then a double submit answers the first outcome', function () use ($k) {
    $id = Client::newRequestId();
    $o = $k->reserve($id, 'anna@example.org', [['zur-post-20', 1]]);
    same(O\Held::class, get_class($o));
    same(1, $o->units, 'units');
    same($o, $k->reserve($id, 'anna@example.org', [['zur-post-20', 1]]), 'repeat');
    same(O\Confirmed::class, get_class($k->confirm($o->reservation)));
    same(null, $k->whyUnavailable('zur-post-20'), 'one is left');
});
check('the customer limit is a refusal with its numbers', function () use ($k) {
    $o = $k->reserve(Client::newRequestId(), 'anna@example.org', [['zur-post-20', 1]]);
    same(R\CustomerLimit::class, get_class($o->reason));
    same([1, 1], [$o->reason->limit, $o->reason->used]);
});
check('sold out says what is left', function () use ($k) {
    same(O\Confirmed::class, get_class($k->reserve(Client::newRequestId(), 'cem@example.org', [['zur-post-20', 1]], ['confirm' => true])));
    $o = $k->reserve(Client::newRequestId(), 'dora@example.org', [['zur-post-20', 1]]);
    same(R\SoldOut::class, get_class($o->reason));
    same(['zur-post', 1, 0], [$o->reason->pool, $o->reason->requested, $o->reason->left]);
});
check('paused by the operator, then resumed', function () use ($k, $op) {
    throws(E\AuthException::class, fn () => $k->pause(), 'forbidden');
    same(O\Done::class, get_class($op->pause()));
    same(R\Paused::class, get_class($k->reserve(Client::newRequestId(), 'eva@example.org', [['zur-post-20', 1]])->reason));
    same(O\Done::class, get_class($op->resume()));
});
check('errors are exceptions with the shared codes', function () use ($k, $base) {
    $e = throws(E\UnknownNameException::class, fn () => $k->reserve('x1', 'a', [['no-such-voucher', 1]]), 'unknown_offer');
    same(404, $e->httpStatus);
    throws(E\InvalidRequestException::class, fn () => $k->reserve('x2', 'a', [['zur-post-20', 0]]), 'zero');
    $k->reserve('x3', 'fred@example.org', [['zur-post-20', 1]]);
    throws(E\RequestIdReusedException::class, fn () => $k->reserve('x3', 'gina@example.org', [['zur-post-20', 1]]), 'request_id_reused');
    throws(E\AuthException::class, fn () => (new Client($base, 'wrong', 'emstek'))->reservation(1), 'unauthorized');
    throws(E\UnknownNameException::class, fn () => (new Client($base, 'client-key-0123456789', 'nope'))->availability(), 'unknown_ledger');
});
check('a consumer over HTTP: notifications with keys, then ack', function () use ($k, $base) {
    $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Authorization: Bearer operator-key-0123456789\r\nContent-Type: application/json", 'content' => json_encode(['consumer' => 'mailer', 'events' => ['confirmed']]), 'ignore_errors' => true]]);
    file_get_contents("{$base}/v1/ledgers/emstek/consumers", false, $ctx);
    $d = $k->consume('mailer');
    same(2, count($d['notifications']), 'two confirmations');
    foreach ($d['notifications'] as $n) {
        same("{$d['ledger']}-{$n['event']['seq']}", $n['key'], 'key');
    }
    same(O\Done::class, get_class($k->ack('mailer', $d['through'])));
    same(0, count($k->consume('mailer')['notifications']), 'after the ack');
});

// The hostile server.
$fakePort = free_port();
$log = "{$dir}/fake.log";
touch($log);
$fake = proc_open([PHP_BINARY, '-S', "127.0.0.1:{$fakePort}", __DIR__ . '/fake_server.php'], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $p2, null, getenv() + ['FAKE_LOG' => $log, 'PHP_CLI_SERVER_WORKERS' => '8']);
for ($i = 0; $i < 50 && @fsockopen('127.0.0.1', $fakePort) === false; $i++) {
    usleep(100_000);
}
$fakeBase = "http://127.0.0.1:{$fakePort}";
$c = fn (string $mode, float $timeout = 0.5, int $retries = 2) => new Client($fakeBase, 'k', $mode, timeout: $timeout, retries: $retries, backoff: 0.01);
check('a timeout is retried with the same request id, and the answer is the outcome', function () use ($c, $log) {
    $o = $c('flaky', 0.7)->reserve('form-42', 'anna@example.org', [['zur-post-20', 1]]);
    same(O\Held::class, get_class($o));
    $bodies = array_map(fn ($l) => json_decode(json_decode($l, true)['body'], true), array_filter(file($log), fn ($l) => json_decode($l, true)['mode'] === 'flaky'));
    same(3, count($bodies), 'attempts');
    same(['form-42'], array_values(array_unique(array_column($bodies, 'request_id'))), 'one request id');
});
check('no answer in time, after the retries: TransportException', function () use ($c) {
    throws(E\TransportException::class, fn () => $c('slow', 0.3, 1)->availability(), 'transport');
});
check('a 503 is retried, then UnavailableException with its code', function () use ($c, $log) {
    throws(E\UnavailableException::class, fn () => $c('busy')->reserve('b1', 'a', [['o', 1]]), 'poisoned');
    same(3, count(array_filter(file($log), fn ($l) => json_decode($l, true)['mode'] === 'busy')), 'attempts');
});
check('confirm is not retried (a second try would not answer the outcome)', function () use ($c, $log) {
    throws(E\UnavailableException::class, fn () => $c('busy')->confirm(1));
    same(4, count(array_filter(file($log), fn ($l) => json_decode($l, true)['mode'] === 'busy')), 'one more attempt only');
});
check('hostile answers are bad_answer, never a fatal error', function () use ($c) {
    throws(E\KontingentException::class, fn () => $c('garbage')->availability(), 'bad_answer');
    throws(E\KontingentException::class, fn () => $c('weird')->pause(), 'bad_answer');
    throws(E\KontingentException::class, fn () => $c('negative')->reserve('n', 'a', [['o', 1]]), 'bad_answer');
    throws(E\KontingentException::class, fn () => $c('huge', 5.0)->availability(), 'bad_answer');
    throws(E\KontingentException::class, fn () => $c('redirect')->availability(), 'bad_answer');
    // A 200 whose JSON is not an object where one is due: bad_answer, not a TypeError.
    foreach (['availability', 'slots'] as $m) {
        throws(E\KontingentException::class, fn () => $m === 'slots' ? $c('scalar')->slots('d') : $c('scalar')->{$m}(), 'bad_answer');
    }
    throws(E\KontingentException::class, fn () => $c('scalar')->reservation(1), 'bad_answer');
    ini_set('arg_separator.output', '&amp;');
    same(null, $c('separator')->whyUnavailable('zur-post-20'), 'the query split by &');
    ini_set('arg_separator.output', '&');
    $e = throws(E\UnavailableException::class, fn () => $c('html500', 0.5, 0)->availability(), 'bad_answer');
    same(500, $e->httpStatus);
});

proc_terminate($fake);
proc_terminate($server);
echo "{$passed} passed, {$failed} failed\n";
exit($failed === 0 ? 0 : 1);
