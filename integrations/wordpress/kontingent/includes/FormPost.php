<?php

declare(strict_types=1);

namespace Kontingent\WordPress;

use Kontingent\Client;
use Kontingent\Exception\KontingentException;
use Kontingent\Exception\TransportException;
use Kontingent\Exception\UnavailableException;

/**
 * What every form of the plugin shares: a request id minted when the form is
 * rendered, the post that reserves with it, and the result page.
 *
 * The request id makes the post safe to repeat: a double submit, a reload of
 * the post, or a retry after a timeout asks the server again with the same id,
 * and the server answers the first outcome. The outcome is kept for a day
 * under the id, so that the result page (post, redirect, get) shows it again
 * on a reload without asking.
 *
 * What a form may ask for is signed into its nonce: the ledger and the scope
 * the shortcode gave (its offers, its slot template and products), so a
 * visitor cannot post to another campaign or an offer the page does not show.
 *
 * The confirmation e-mail is not sent here: a form handler can crash or lose
 * its answer between the reservation and the mail, and then either skip the
 * mail or send it twice. The server's notification consumer sends it, once.
 */
final class FormPost
{
    /** The longest posted field kept for "send again". */
    private const FIELD_MAX = 200;

    /** The hidden fields of a form that posts `$action` on `$ledger` within `$scope`. */
    public static function hiddenFields(string $action, string $ledger, string $scope = ''): string
    {
        $html = sprintf('<input type="hidden" name="action" value="%s" />', esc_attr($action));
        $html .= wp_nonce_field(self::nonceAction($action, $ledger, $scope), 'kontingent_nonce', false, false);
        $html .= sprintf('<input type="hidden" name="request_id" value="%s" />', esc_attr(Client::newRequestId()));
        $html .= sprintf('<input type="hidden" name="ledger" value="%s" />', esc_attr($ledger));
        $html .= sprintf('<input type="hidden" name="scope" value="%s" />', esc_attr($scope));
        $html .= sprintf('<input type="hidden" name="return" value="%s" />', esc_attr((string) get_permalink()));
        return $html;
    }

    private static function nonceAction(string $action, string $ledger, string $scope): string
    {
        return $action . '|' . $ledger . '|' . $scope;
    }

    /**
     * Handle a post: check it, then `$reserve` (given the client, the request id
     * and the customer) unless `$invalid` (given the signed scope) says why not;
     * keep the outcome; redirect to the result page. `$fields` are the form's own
     * fields, kept (bounded) for "send again".
     *
     * @param list<string> $fields
     * @param callable(string): ?string $invalid
     * @param callable(Client, string, string): \Kontingent\Outcome\Outcome $reserve
     */
    public static function handle(string $action, array $fields, callable $invalid, callable $reserve): void
    {
        $requestId = self::posted('request_id');
        $ledger = sanitize_key(self::posted('ledger'));
        $scope = self::posted('scope');
        $nonce = self::posted('kontingent_nonce');
        if (!wp_verify_nonce($nonce, self::nonceAction($action, $ledger, $scope))) {
            wp_die(esc_html__('This form has expired. Please reload the page and send it again.', 'kontingent'), '', ['response' => 403]);
        }
        $return = wp_validate_redirect(esc_url_raw(self::posted('return')), home_url('/'));
        if (!preg_match('/^[0-9a-f]{32}$/', $requestId) || !preg_match(Connection::LEDGER_PATTERN, $ledger)) {
            wp_die(esc_html__('This form is not complete. Please reload the page.', 'kontingent'), '', ['response' => 400]);
        }
        $kept = get_transient(Outcomes::key($requestId));
        if (is_array($kept) && !in_array($kept['status'] ?? '', ['invalid', 'error'], true)) {
            // This form has its answer already (a reload of the post, a double
            // submit): show it; a request id reused with other choices must not
            // overwrite it.
            self::redirect($return, $requestId, $ledger);
        }
        $email = sanitize_email(self::posted('email'));
        $why = is_email($email) ? $invalid($scope) : __('Please give your e-mail address: the confirmation goes to it.', 'kontingent');
        if ($why !== null) {
            $outcome = ['status' => 'invalid', 'message' => $why];
        } else {
            $client = Connection::client($ledger);
            try {
                if ($client === null) {
                    throw new KontingentException('not_configured', 'the plugin is not configured');
                }
                // The customer is the e-mail address: the per-customer limits count by
                // it, and the server's mailer writes to it.
                $outcome = Outcomes::toArray($reserve($client, $requestId, strtolower($email)));
            } catch (TransportException | UnavailableException $e) {
                // The answer is not known (the server may have reserved and the
                // answer been lost): the result page offers to send the very same
                // post again, request id included, which answers the first outcome
                // if there was one. A fresh form would mint a new id and could
                // reserve twice.
                $outcome = ['status' => 'error', 'code' => $e->errorCode, 'retry' => self::retryFields($action, $fields)];
            } catch (KontingentException $e) {
                // A definite "no" that sending again would not change (an offer the
                // server does not know, a key it refuses, the id used for other choices).
                $outcome = ['status' => 'failed', 'code' => $e->errorCode];
            }
        }
        $outcome['ledger'] = $ledger;
        set_transient(Outcomes::key($requestId), $outcome, $outcome['status'] === 'error' ? HOUR_IN_SECONDS : DAY_IN_SECONDS);
        self::redirect($return, $requestId, $ledger);
    }

    private static function redirect(string $return, string $requestId, string $ledger): void
    {
        wp_safe_redirect(add_query_arg('kontingent', $requestId, $return) . '#kontingent-' . $ledger, 303);
        exit;
    }

    /**
     * The post's own fields for sending it again: the hidden ones and `$fields`
     * (a `name[]` entry takes that array's entries), each bounded.
     *
     * @param list<string> $fields
     * @return array<string, string>
     */
    private static function retryFields(string $action, array $fields): array
    {
        $kept = ['action' => $action];
        foreach (array_merge(['request_id', 'ledger', 'scope', 'return'], $fields) as $name) {
            if (str_ends_with($name, '[]')) {
                $base = substr($name, 0, -2);
                $values = isset($_POST[$base]) && is_array($_POST[$base]) ? wp_unslash($_POST[$base]) : [];
                foreach (array_slice($values, 0, 32, true) as $sub => $v) {
                    if (is_scalar($v)) {
                        $kept[$base . '[' . substr(sanitize_text_field((string) $sub), 0, 100) . ']'] = substr(sanitize_text_field((string) $v), 0, self::FIELD_MAX);
                    }
                }
            } else {
                $kept[$name] = substr(self::posted($name), 0, $name === 'return' ? 2000 : self::FIELD_MAX);
            }
        }
        return $kept;
    }

    /** A form that sends a post again as it was (the same request id), with a fresh nonce. */
    public static function retryForm(array $retry): string
    {
        $action = (string) ($retry['action'] ?? '');
        if (!in_array($action, [VoucherForm::ACTION, SlotPicker::ACTION], true)) {
            return '';
        }
        $html = '<form method="post" class="kontingent-retry" action="' . esc_url(admin_url('admin-post.php')) . '">';
        $html .= wp_nonce_field(self::nonceAction($action, (string) ($retry['ledger'] ?? ''), (string) ($retry['scope'] ?? '')), 'kontingent_nonce', false, false);
        foreach ($retry as $name => $value) {
            $html .= sprintf('<input type="hidden" name="%s" value="%s" />', esc_attr((string) $name), esc_attr((string) $value));
        }
        return $html . '<button type="submit">' . esc_html__('Send again', 'kontingent') . '</button></form>';
    }

    /** The stored outcome the result page shows for `$ledger`'s box, if this page view is one. */
    public static function result(string $ledger): ?array
    {
        $id = isset($_GET['kontingent']) ? sanitize_text_field(wp_unslash($_GET['kontingent'])) : '';
        if (!preg_match('/^[0-9a-f]{32}$/', $id)) {
            return null;
        }
        $o = get_transient(Outcomes::key($id));
        return is_array($o) && ($o['ledger'] ?? $ledger) === $ledger ? $o : null;
    }

    /** A posted text field, sanitised; empty when absent. */
    public static function posted(string $field): string
    {
        return isset($_POST[$field]) && is_string($_POST[$field]) ? sanitize_text_field(wp_unslash($_POST[$field])) : '';
    }
}
