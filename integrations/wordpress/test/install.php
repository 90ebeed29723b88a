<?php
/**
 * Installs WordPress into a fresh database and activates the plugin, without
 * WP-CLI: what the install screen and the plugins screen do, called directly.
 *
 * usage: php install.php DOCROOT URL SETTINGS_JSON PAGES_JSON
 * PAGES_JSON is {"slug": "content", ...}; prints {"slug": page_id, ...}.
 */

declare(strict_types=1);

[, $root, $url, $settings, $pages] = $argv;
$u = parse_url($url);
$_SERVER['HTTP_HOST'] = $u['host'] . ':' . $u['port'];
$_SERVER['SERVER_NAME'] = $u['host'];
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$installed = wp_install('Emstek vouchers', 'admin', 'admin@example.org', false, '', 'admin-password-0123');
if (is_wp_error($installed)) {
    fwrite(STDERR, $installed->get_error_message() . "\n");
    exit(1);
}
$activated = activate_plugin('kontingent/kontingent.php', '', false, true);
if (is_wp_error($activated)) {
    fwrite(STDERR, 'activate: ' . $activated->get_error_message() . "\n");
    exit(1);
}
update_option('kontingent_settings', json_decode($settings, true, 8, JSON_THROW_ON_ERROR));
$ids = [];
foreach (json_decode($pages, true, 8, JSON_THROW_ON_ERROR) as $slug => $content) {
    $ids[$slug] = wp_insert_post(['post_type' => 'page', 'post_status' => 'publish', 'post_name' => $slug, 'post_title' => ucfirst($slug), 'post_content' => $content], true);
    if (is_wp_error($ids[$slug])) {
        fwrite(STDERR, $ids[$slug]->get_error_message() . "\n");
        exit(1);
    }
}
echo json_encode($ids), "\n";
