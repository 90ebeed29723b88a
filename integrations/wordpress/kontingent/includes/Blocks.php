<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

/**
 * The two forms as blocks of the block editor, rendered on the server by the
 * same code as the shortcodes (dynamic blocks: nothing is saved in the post
 * but the block's attributes). The editor script has no build step.
 */
final class Blocks
{
    /**
     * The block's own attributes as shortcode attributes (WordPress adds others,
     * such as `lock`, that are not strings).
     *
     * @param list<string> $names
     * @return array<string, string>
     */
    private static function known(array $attributes, array $names): array
    {
        $out = [];
        foreach ($names as $n) {
            if (isset($attributes[$n]) && is_scalar($attributes[$n])) {
                $out[$n] = (string) $attributes[$n];
            }
        }
        return $out;
    }

    public static function register(): void
    {
        wp_register_script(
            'kontingent-blocks',
            plugins_url('assets/blocks.js', KONTINGENT_PLUGIN_FILE),
            ['wp-blocks', 'wp-element', 'wp-block-editor', 'wp-components', 'wp-server-side-render', 'wp-i18n'],
            KONTINGENT_VERSION,
            true
        );
        wp_set_script_translations('kontingent-blocks', 'kontingent', plugin_dir_path(KONTINGENT_PLUGIN_FILE) . 'languages');
        $text = ['type' => 'string', 'default' => ''];
        register_block_type('kontingent/vouchers', [
            'api_version' => 2,
            'editor_script' => 'kontingent-blocks',
            'attributes' => ['ledger' => $text, 'offers' => $text],
            'render_callback' => static fn (array $a): string => VoucherForm::shortcode(self::known($a, ['ledger', 'offers'])),
        ]);
        register_block_type('kontingent/slots', [
            'api_version' => 2,
            'editor_script' => 'kontingent-blocks',
            'attributes' => ['ledger' => $text, 'template' => ['type' => 'string', 'default' => 'delivery'], 'products' => $text],
            'render_callback' => static fn (array $a): string => SlotPicker::shortcode(self::known($a, ['ledger', 'template', 'products'])),
        ]);
    }
}
