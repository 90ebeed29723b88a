<?php
// A hostile "server" for the client's tests (php -S 127.0.0.1:PORT fake_server.php):
// the ledger name in the path says how it misbehaves. Every request's body is
// appended to $LOG, so a test can see what the client sent on each attempt.
declare(strict_types=1);

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$mode = explode('/', $path)[3] ?? '';
$body = file_get_contents('php://input');
$log = getenv('FAKE_LOG');
file_put_contents($log, json_encode(['mode' => $mode, 'body' => $body]) . "\n", FILE_APPEND | LOCK_EX);
$seen = count(array_filter(file($log), fn ($l) => json_decode($l, true)['mode'] === $mode));

header('Content-Type: application/json');
switch ($mode) {
    case 'garbage':
        echo 'this is not json';
        break;
    case 'html500':
        http_response_code(500);
        header('Content-Type: text/html');
        echo '<h1>Internal Server Error</h1>';
        break;
    case 'slow':
        sleep(2);
        echo '{"status":"done"}';
        break;
    case 'flaky':
        // The first two attempts get no timely answer; the third is served.
        if ($seen <= 2) {
            sleep(2);
        }
        echo '{"status":"held","reservation":7,"expires_at":1000,"units":1}';
        break;
    case 'busy':
        http_response_code(503);
        echo '{"code":"poisoned","message":"the journal failed","details":{}}';
        break;
    case 'huge':
        echo '{"status":"done","pad":"' . str_repeat('x', 9 << 20) . '"}';
        break;
    case 'weird':
        echo '{"status":"exploded"}';
        break;
    case 'negative':
        echo '{"status":"held","reservation":-1,"expires_at":1,"units":1}';
        break;
    case 'scalar':
        echo '42';
        break;
    case 'separator':
        // The query must be split by `&` even where arg_separator.output is `&amp;`.
        echo json_encode($_GET === ['offer' => 'zur-post-20', 'channel' => 'web'] ? null : ['reason' => 'paused']);
        break;
    case 'redirect':
        http_response_code(302);
        header('Location: /elsewhere');
        break;
    default:
        http_response_code(404);
        echo '{"code":"not_found","message":"no such route","details":{}}';
}
