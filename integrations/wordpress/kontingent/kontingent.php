<?php
/**
 * Plugin Name:       Kontingent
 * Plugin URI:        https://github.com/kontingent/kontingent
 * Description:       Voucher forms and delivery-slot pickers that say yes only when a unit really exists, over a kontingent server; confirmation e-mails sent once, by the server.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * License:           MIT OR Apache-2.0
 * Text Domain:       kontingent
 * Domain Path:       /languages
 */

declare(strict_types=1);

defined('ABSPATH') || exit;

define('KONTINGENT_PLUGIN_FILE', __FILE__);
define('KONTINGENT_VERSION', '0.1.0');

/*
 * PSR-4: `Kontingent\WordPress\` is this plugin (includes/), `Kontingent\` the PHP
 * client. A packaged plugin carries the client in lib/client/ (scripts/package-wordpress.sh);
 * a checkout of the repository finds it beside the plugin, in integrations/php/src/.
 */
spl_autoload_register(static function (string $class): void {
    $roots = [
        'Kontingent\\WordPress\\' => [__DIR__ . '/includes/'],
        'Kontingent\\' => [__DIR__ . '/lib/client/', dirname(__DIR__, 2) . '/php/src/'],
    ];
    foreach ($roots as $prefix => $dirs) {
        if (!str_starts_with($class, $prefix)) {
            continue;
        }
        $relative = str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        foreach ($dirs as $dir) {
            if (is_file($dir . $relative)) {
                require $dir . $relative;
                return;
            }
        }
        return;
    }
});

\Kontingent\WordPress\Plugin::boot();
