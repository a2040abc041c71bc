package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The chat page in a real browser: Debian's headless chromium, driven through Debian's chromedriver by Selenium,
 * against a server in this process whose models are scripted (a fast one that echoes or answers with an injection
 * attempt, a slow one that streams a word every 200 ms). The configuration blocks prompts with a secret; its policy
 * checks prompts only, since a blocking check of the reply holds the reply back until it is whole and there would be
 * no streaming to watch. What a real network does now and then (a POST slow to arrive, a connection lost mid-reply)
 * is made to happen on purpose by wrapping the page's {@code fetch}. Each step saves a screenshot under
 * {@code target/screenshots/}. Without chromium a developer's run is skipped; a CI run ({@code CI=true}) fails.
 */
class BrowserChatTest {
    static final String CONFIG = "/dev/parley/samples/server/web-config.json";
    static final String SUPPORT = "/api/v1/workspaces/support/conversations";
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    static final Duration WAIT = Duration.ofSeconds(30);
    /** Words of the slow model's reply: about 12 s of streaming, far longer than the test needs to stop it. */
    static final int SLOW_WORDS = 60;
    /** What the fast model answers to a prompt that says "inject": markdown, and HTML that must stay text. */
    static final String INJECTION = "Here is **bold**, *italic* and `code`.\n\n"
            + "- first point\n- second point\n\n"
            + "1. step one\n2. step two\n\n"
            + "```\nint x = 1 < 2 ? 3 : 4;\n```\n\n"
            + "<img src=x onerror=alert(1)> and <script>window.parleyPwned = 1; alert(2)</script>";

    @TempDir
    static Path data;
    @TempDir
    static Path profile;

    static TestServer http;
    static ScriptedModel fast;
    static ScriptedModel slow;
    static ScriptedModel flaky;
    static WebDriver driver;
    static WebDriverWait wait;
    static int shots;

    @BeforeAll
    static void start() throws IOException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String missing = "the browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": install the Debian packages chromium and chromium-driver";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(missing);
            }
            Assumptions.abort(missing);
        }
        fast = ScriptedModel.builder().replyWith(r -> {
            String last = r.messages().get(r.messages().size() - 1).text();
            return last.contains("inject") ? INJECTION : "echo: " + last;
        }).build();
        slow = ScriptedModel.builder()
                .replyWith(r -> IntStream.rangeClosed(1, SLOW_WORDS).mapToObj(i -> "w" + i)
                        .collect(Collectors.joining(" ")))
                .chunkDelay(Duration.ofMillis(200))
                .build();
        flaky = ScriptedModel.builder().replyWith(r -> "one two three four five six")
                .failStreamsAfter(2, new IllegalStateException("the scripted model fails mid-stream"))
                .build();
        http = TestServer.start(CONFIG, data, Map.of(),
                s -> s.withModel("demo", fast).withModel("slow", slow).withModel("flaky", flaky).withDemoSignIn());

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1280,900");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, WAIT, Duration.ofMillis(50));
        Files.createDirectories(SCREENSHOTS);
        try (var old = Files.newDirectoryStream(SCREENSHOTS, "*.png")) {
            for (Path png : old) {
                Files.delete(png);
            }
        }
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (http != null) {
            http.close();
        }
    }

    // ---- helpers

    static void screenshot(String step) {
        try {
            Files.write(SCREENSHOTS.resolve(String.format("%02d-%s.png", ++shots, step)),
                    ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for {@code condition}; on a timeout saves a screenshot of the page as it was, to see why. */
    static <T> T until(String what, Function<WebDriver, T> condition) {
        try {
            return wait.withMessage(what).until(condition);
        } catch (org.openqa.selenium.TimeoutException e) {
            screenshot("timeout-" + what.replaceAll("[^A-Za-z0-9]+", "-"));
            throw e;
        }
    }

    static WebElement byId(String id) {
        return driver.findElement(By.id(id));
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /**
     * The page with no token kept: the session storage is cleared on a page of the same origin that runs no script,
     * so that no sign-in of an earlier page can store a token again meanwhile.
     */
    static void freshPage() {
        driver.get(http.uri(WebUi.CONFIG_PATH).toString());
        js("window.sessionStorage.clear()");
        driver.get(http.uri("/").toString());
    }

    /** A fresh page, signed in by clicking the demo user {@code user}. */
    static void signInAs(String user) {
        driver.manage().window().setSize(new Dimension(1280, 900));
        freshPage();
        WebElement button = until("the demo user " + user, d -> d.findElement(
                By.cssSelector("#demo-users:not([hidden]) button[data-user='" + user + "']")));
        button.click();
        until("the chat after sign-in", d -> byId("chat").isDisplayed());
        until("the conversation list", d -> !byId("conversation-list-status").getText().contains("Could not"));
    }

    /** Starts a conversation on {@code model} from the page and returns its id. */
    static String newConversation(String model) {
        new Select(byId("model")).selectByValue(model);
        byId("new-conversation").click();
        return until("the new conversation open", d -> {
            List<WebElement> current = d.findElements(By.cssSelector(".conversation-item[aria-current='true']"));
            return current.isEmpty() ? null : current.get(0).getAttribute("data-id");
        });
    }

    /** Types {@code text} into the prompt and presses Enter. */
    static void typeAndEnter(CharSequence... keys) {
        WebElement prompt = byId("prompt");
        prompt.click();
        prompt.sendKeys(keys);
        prompt.sendKeys(Keys.ENTER);
    }

    static WebElement lastReply() {
        List<WebElement> replies = driver.findElements(By.cssSelector("#messages li.from-assistant"));
        if (replies.isEmpty()) {
            throw new NoSuchElementException("no reply shown yet"); // a wait goes on
        }
        return replies.get(replies.size() - 1);
    }

    static JsonNode stored(String conversation, String token) {
        TestServer.Response r = http.get(SUPPORT + "/" + conversation + "/messages?size=100", token);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("data");
    }

    static String message(String id, String text) {
        return WorkspaceApiTest.message(id, text);
    }

    /** The slow model's whole reply. */
    static String fullSlowReply() {
        return IntStream.rangeClosed(1, SLOW_WORDS).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
    }

    static long conversationCount(String token) {
        TestServer.Response r = http.get(SUPPORT + "?size=1", token);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("page").get("totalElements").asLong();
    }

    /** Waits until the conversation's reply is stored with {@code status}, and returns its messages. */
    static JsonNode storedReply(String conversation, String token, String status) {
        return until("the reply stored as " + status, d -> {
            JsonNode messages = stored(conversation, token);
            return messages.size() == 2 && status.equals(messages.get(1).get("status").asText()) ? messages : null;
        });
    }

    /** A stream of {@code token}'s opened beside the page, once a stream slot is free, its first delta read. */
    static SseEvents openStream(String conversation, String token, String messageId) throws InterruptedException {
        HttpResponse<InputStream> r = until("a stream slot for " + messageId, d -> {
            HttpResponse<InputStream> open = http.open(SUPPORT + "/" + conversation + "/message-streams", token,
                    message(messageId, "Hold a stream open"));
            if (open.statusCode() == 200) {
                return open;
            }
            try {
                open.body().close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return null;
        });
        SseEvents events = new SseEvents(r.body());
        assertThat(events.next().name()).isEqualTo("delta");
        return events;
    }

    /**
     * Makes the page's POSTs of message streams fail as a broken connection does: with {@code "reject"} the fetch
     * itself rejects, with {@code "cut"} the body errors after two chunks with deltas.
     */
    static void breakStreams(String mode) {
        js("window.brokenStreams = arguments[0];"
                + "if (window.realFetch) { return; }"
                + "window.realFetch = window.fetch;"
                + "window.fetch = function (url, options) {"
                + "  var real = window.realFetch;"
                + "  if (!options || options.method !== 'POST' || String(url).indexOf('/message-streams') < 0) {"
                + "    return real.apply(window, arguments);"
                + "  }"
                + "  if (window.brokenStreams === 'reject') {"
                + "    return Promise.reject(new TypeError('Failed to fetch'));"
                + "  }"
                + "  return real.apply(window, arguments).then(function (r) {"
                + "    var reader = r.body.getReader();"
                + "    var deltas = 0;"
                + "    var body = new ReadableStream({ pull: function (c) {"
                + "      if (deltas >= 2) {"
                + "        reader.cancel();"
                + "        c.error(new TypeError('network error'));"
                + "        return;"
                + "      }"
                + "      return reader.read().then(function (x) {"
                + "        if (x.done) { c.close(); return; }"
                + "        if (new TextDecoder().decode(x.value).indexOf('event:delta') >= 0"
                + "            || new TextDecoder().decode(x.value).indexOf('event: delta') >= 0) { deltas++; }"
                + "        c.enqueue(x.value);"
                + "      });"
                + "    }});"
                + "    return new Response(body, { status: r.status, statusText: r.statusText, headers: r.headers });"
                + "  });"
                + "};", mode);
    }

    /**
     * Holds the page's POSTs of message streams back, as a slow network does, until {@code window.releaseStreams()}
     * is called; that lets them go once every DELETE of a message stream sent so far has been answered.
     */
    static void holdStreams() {
        js("window.heldStreams = [];"
                + "window.pendingCancels = [];"
                + "var real = window.fetch;"
                + "window.fetch = function (url, options) {"
                + "  var args = arguments;"
                + "  var method = options && options.method;"
                + "  if (String(url).indexOf('/message-streams') < 0) {"
                + "    return real.apply(window, args);"
                + "  }"
                + "  if (method === 'DELETE') {"
                + "    var cancel = real.apply(window, args);"
                + "    window.pendingCancels.push(cancel.catch(function () { return null; }));"
                + "    return cancel;"
                + "  }"
                + "  return new Promise(function (resolve) {"
                + "    window.heldStreams.push(function () { resolve(real.apply(window, args)); });"
                + "  });"
                + "};"
                + "window.releaseStreams = function () {"
                + "  return Promise.all(window.pendingCancels).then(function () {"
                + "    window.heldStreams.splice(0).forEach(function (go) { go(); });"
                + "  });"
                + "};");
    }

    static WebElement refusalShown(String what) {
        return until(what, d -> {
            List<WebElement> r = d.findElements(By.cssSelector("#messages li.from-assistant .refusal"));
            return r.isEmpty() ? null : r.get(r.size() - 1);
        });
    }

    // ---- the tests

    @Test
    void aWrongTokenIsRefusedAndADemoUserSignsInWithAClick() {
        freshPage();
        WebElement token = until("the token field", d -> d.findElement(By.id("token")));
        assertThat(driver.findElement(By.cssSelector("label[for='token']")).getText()).isEqualTo("Bearer token");
        token.sendKeys("t-nobody", Keys.ENTER);
        WebElement error = until("the sign-in error", d -> byId("sign-in-error").isDisplayed()
                ? byId("sign-in-error") : null);
        assertThat(error.getText()).contains("not known");
        assertThat(byId("chat").isDisplayed()).isFalse();
        screenshot("wrong-token");

        List<String> users = driver.findElements(By.cssSelector("#demo-user-list button")).stream()
                .map(b -> b.getAttribute("data-user")).toList();
        assertThat(users).containsExactly("alice", "bob", "cora");
        driver.findElement(By.cssSelector("button[data-user='alice']")).click();
        until("signed in", d -> byId("who").getText().equals("Signed in as alice"));
        assertThat(new Select(byId("workspace")).getFirstSelectedOption().getText()).isEqualTo("Support (member)");
        assertThat(new Select(byId("model")).getOptions()).extracting(WebElement::getText)
                .containsExactly("demo", "slow", "flaky");
        screenshot("signed-in");
    }

    @Test
    void theListPagesNewestFirstAndTheHistoryLoadsEarlierPagesWhenScrolledToTheTop() {
        TestServer.Response created = http.post(SUPPORT, "t-web-bob", "{}");
        String seeded = created.json().get("id").asText();
        for (int i = 1; i <= 20; i++) {
            TestServer.Response r = http.post(SUPPORT + "/" + seeded + "/messages", "t-web-bob",
                    message("seed-" + i, "history turn " + i + " of 20"));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
        }
        String newest = null;
        for (int i = 0; i < 10; i++) {
            newest = http.post(SUPPORT, "t-web-bob", "{}").json().get("id").asText();
        }

        signInAs("bob");
        List<WebElement> items = until("the first page of conversations", d -> {
            List<WebElement> list = d.findElements(By.cssSelector("#conversation-list .conversation-item"));
            return list.size() == 10 ? list : null;
        });
        assertThat(items.get(0).getAttribute("data-id")).as("newest first").isEqualTo(newest);
        assertThat(driver.findElements(By.cssSelector(".conversation-item[data-id='" + seeded + "']")))
                .as("the oldest is on the second page").isEmpty();
        WebElement more = byId("more-conversations");
        assertThat(more.isDisplayed()).isTrue();
        screenshot("conversation-list");
        more.click();
        WebElement oldest = until("the second page", d -> d.findElement(
                By.cssSelector(".conversation-item[data-id='" + seeded + "']")));
        assertThat(driver.findElements(By.cssSelector("#conversation-list .conversation-item"))).hasSize(11);
        until("no more pages", d -> !byId("more-conversations").isDisplayed());

        oldest.click();
        until("the newest page of the history", d -> d.findElements(By.cssSelector("#messages li")).size() == 20);
        List<WebElement> shown = driver.findElements(By.cssSelector("#messages li .body"));
        assertThat(shown.get(shown.size() - 1).getText()).isEqualTo("echo: history turn 20 of 20");
        assertThat(shown.get(0).getText()).isEqualTo("history turn 11 of 20");
        assertThat(((Number) js("var h = document.getElementById('history'); return h.scrollHeight - h.clientHeight"
                + " - h.scrollTop;")).intValue()).as("scrolled to the newest message").isLessThan(5);
        screenshot("history-newest-page");

        js("document.getElementById('history').scrollTop = 0;");
        until("the earlier page", d -> d.findElements(By.cssSelector("#messages li")).size() == 40);
        WebElement first = driver.findElement(By.cssSelector("#messages li:first-child .body"));
        assertThat(first.getText()).isEqualTo("history turn 1 of 20");
        assertThat(driver.findElements(By.cssSelector("#messages li .body"))).extracting(WebElement::getText)
                .as("oldest first, each once").startsWith("history turn 1 of 20", "echo: history turn 1 of 20",
                        "history turn 2 of 20").doesNotHaveDuplicates();
        js("arguments[0].scrollIntoView({block: 'center'});", first);
        assertThat(first.isDisplayed()).isTrue();
        until("the start reached", d -> byId("history-status").getText().equals("Start of the conversation."));
        screenshot("history-oldest-page");
    }

    @Test
    void aReplyStreamsInAndStopKeepsThePartialReplyStoredAsCancelled() {
        signInAs("alice");
        String id = newConversation("slow");
        typeAndEnter("line one", Keys.chord(Keys.SHIFT, Keys.ENTER), "line two");

        WebElement user = until("the user's message", d -> d.findElement(By.cssSelector("#messages li.from-user")));
        assertThat(user.getText()).contains("line one\nline two");
        WebElement reply = until("a reply streaming", d -> {
            WebElement r = lastReply();
            return "true".equals(r.getAttribute("aria-busy")) && r.findElement(By.className("body")).getText()
                    .startsWith("w1 w2") ? r : null;
        });
        int before = reply.findElement(By.className("body")).getText().length();
        until("the reply growing while it streams", d -> "true".equals(reply.getAttribute("aria-busy"))
                && reply.findElement(By.className("body")).getText().length() > before);
        assertThat(byId("send").isEnabled()).as("send while streaming").isFalse();
        screenshot("streaming");

        byId("stop").click();
        until("the reply stopped", d -> "CANCELLED".equals(reply.getAttribute("data-status")));
        String partial = reply.findElement(By.className("body")).getText();
        assertThat(partial).startsWith("w1 w2").doesNotContain("w" + SLOW_WORDS);
        assertThat(reply.findElement(By.className("meta")).getText()).contains("Stopped: partial reply kept");
        until("the composer free again", d -> byId("send").isEnabled() && !byId("stop").isEnabled());
        screenshot("stopped");

        JsonNode messages = stored(id, "t-web-alice");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).get("text").asText()).isEqualTo("line one\nline two");
        assertThat(messages.get(1).get("status").asText()).isEqualTo("CANCELLED");
        assertThat(messages.get(1).get("text").asText().strip()).isEqualTo(partial.strip());
    }

    @Test
    void escapeStopsTheStreamFromTheKeyboard() {
        signInAs("alice");
        String id = newConversation("slow");
        typeAndEnter("Keep going");
        WebElement reply = until("a reply streaming", d -> {
            WebElement r = lastReply();
            return "true".equals(r.getAttribute("aria-busy")) && r.getText().contains("w2") ? r : null;
        });

        byId("prompt").sendKeys(Keys.ESCAPE);
        until("the reply stopped", d -> "CANCELLED".equals(reply.getAttribute("data-status")));
        screenshot("escape-stopped");
        JsonNode messages = stored(id, "t-web-alice");
        assertThat(messages.get(1).get("status").asText()).isEqualTo("CANCELLED");
        assertThat(messages.get(1).get("text").asText()).doesNotContain("w" + SLOW_WORDS);
    }

    @Test
    void theFirstMessageRightAfterSignInStartsAConversationAndStreamsItsReply() {
        long before = conversationCount("t-web-alice");
        signInAs("alice");
        typeAndEnter("Hello, first thing");

        WebElement reply = until("the reply complete", d -> {
            WebElement r = lastReply();
            return "COMPLETE".equals(r.getAttribute("data-status")) ? r : null;
        });
        assertThat(reply.findElement(By.className("body")).getText()).isEqualTo("echo: Hello, first thing");
        assertThat(reply.getAttribute("aria-busy")).isNull();
        String id = until("the new conversation current in the list", d -> {
            List<WebElement> current = d.findElements(By.cssSelector(
                    "#conversation-list .conversation-item[aria-current='true']"));
            return current.isEmpty() ? null : current.get(0).getAttribute("data-id");
        });
        assertThat(byId("composer-status").getText()).as("no error").isEmpty();
        until("the composer free again", d -> byId("send").isEnabled());
        screenshot("first-message-after-sign-in");

        assertThat(conversationCount("t-web-alice")).as("one conversation made").isEqualTo(before + 1);
        JsonNode messages = stored(id, "t-web-alice");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).get("text").asText()).isEqualTo("Hello, first thing");
        assertThat(messages.get(1).get("status").asText()).isEqualTo("COMPLETE");
    }

    @Test
    void escapeRightAfterEnterStopsTheReplyOnceTheStreamIsOpen() {
        signInAs("alice");
        String id = newConversation("slow");
        holdStreams();
        WebElement prompt = byId("prompt");
        prompt.click();
        prompt.sendKeys("Stop me at once");
        prompt.sendKeys(Keys.ENTER, Keys.ESCAPE);
        until("the stream's POST held back", d -> ((Number) js("return window.heldStreams.length;")).intValue() == 1);
        assertThat(byId("composer-status").getText()).isEqualTo("Stopping\u2026");
        assertThat(byId("stop").isEnabled()).as("Stop before the stream is open").isFalse();
        assertThat(lastReply().getAttribute("data-received")).as("no delta yet").isNull();
        ((JavascriptExecutor) driver).executeAsyncScript(
                "var done = arguments[arguments.length - 1]; window.releaseStreams().then(function () { done(); });");

        WebElement reply = until("the reply stopped", d -> {
            WebElement r = lastReply();
            return "CANCELLED".equals(r.getAttribute("data-status")) ? r : null;
        });
        assertThat(reply.getAttribute("aria-busy")).isNull();
        assertThat(reply.findElement(By.className("meta")).getText()).contains("Stopped: partial reply kept");
        until("the composer free again", d -> byId("send").isEnabled() && !byId("stop").isEnabled());
        assertThat(byId("composer-status").getText()).isEqualTo("Stopped.");
        screenshot("escape-at-once");

        JsonNode messages = stored(id, "t-web-alice");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(1).get("status").asText()).isEqualTo("CANCELLED");
        assertThat(messages.get(1).get("text").asText().length()).as("shorter than the whole reply")
                .isLessThan(fullSlowReply().length());
    }

    @Test
    void signingOutWhileAReplyStreamsCancelsItAndThePageWorksAfterwards() {
        signInAs("alice");
        String id = newConversation("slow");
        typeAndEnter("Talk while I leave");
        until("a reply streaming", d -> {
            WebElement r = lastReply();
            return "true".equals(r.getAttribute("aria-busy")) && r.getText().contains("w2");
        });
        assertThat(byId("workspace").isEnabled()).as("the workspace while streaming").isFalse();

        byId("sign-out").click();
        until("the sign-in", d -> byId("sign-in").isDisplayed());
        JsonNode cancelled = storedReply(id, "t-web-alice", "CANCELLED");
        assertThat(cancelled.get(1).get("text").asText()).doesNotContain("w" + SLOW_WORDS);

        until("the demo user alice", d -> d.findElement(
                By.cssSelector("#demo-users:not([hidden]) button[data-user='alice']"))).click();
        until("the chat after sign-in", d -> byId("chat").isDisplayed());
        assertThat(byId("workspace").isEnabled()).isTrue();
        new Select(byId("model")).selectByValue("demo");
        typeAndEnter("Back again");
        until("the reply after signing in again", d -> "COMPLETE".equals(lastReply().getAttribute("data-status"))
                && lastReply().getText().contains("echo: Back again"));
        screenshot("after-sign-out-mid-stream");
    }

    @Test
    void aBrokenConnectionIsShownInPlaceOfTheReplyAndFreesTheComposer() {
        signInAs("alice");
        String id = newConversation("slow");
        breakStreams("cut");
        typeAndEnter("Lose the line mid-reply");
        WebElement cut = refusalShown("the connection failure mid-stream");
        assertThat(cut.getText()).startsWith("The connection failed");
        WebElement reply = lastReply();
        assertThat(reply.getAttribute("data-status")).isEqualTo("connectionFailed");
        assertThat(reply.getAttribute("aria-busy")).as("still busy").isNull();
        assertThat(reply.getAttribute("data-received")).as("deltas came before the failure").isNotNull();
        assertThat(reply.findElement(By.className("meta")).getText()).doesNotContain("Replying");
        until("the composer free again", d -> byId("send").isEnabled() && !byId("stop").isEnabled());
        screenshot("connection-cut");
        http.delete(SUPPORT + "/" + id + "/message-streams", "t-web-alice");
        storedReply(id, "t-web-alice", "CANCELLED");

        breakStreams("reject");
        typeAndEnter("Not even sent");
        until("the refused fetch shown", d -> d.findElements(By.cssSelector(
                "#messages li.from-assistant[data-status='connectionFailed']")).size() == 2);
        assertThat(lastReply().getAttribute("aria-busy")).isNull();
        assertThat(lastReply().getText()).contains("The connection failed");
        until("the composer free again", d -> byId("send").isEnabled());
        screenshot("connection-refused");
    }

    @Test
    void aStreamBeyondTheCallersLimitSaysWhenToTryAgain() throws Exception {
        List<SseEvents> held = new java.util.ArrayList<>();
        List<String> conversations = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < ActiveStreams.Limits.DEFAULT.perCaller(); i++) {
                String c = http.post(SUPPORT, "t-web-alice", "{\"modelName\":\"slow\"}").json().get("id").asText();
                conversations.add(c);
                held.add(openStream(c, "t-web-alice", "held-" + i));
            }
            signInAs("alice");
            newConversation("demo");
            typeAndEnter("One stream too many");
            WebElement refused = refusalShown("the stream limit refusal");
            assertThat(refused.getText()).startsWith("Too many streams open \u2014 try again in "
                    + ActiveStreams.RETRY_AFTER_SECONDS + " s");
            assertThat(lastReply().getAttribute("data-status")).isEqualTo("rateLimited");
            until("the composer free again", d -> byId("send").isEnabled());
            screenshot("stream-limit");
        } finally {
            for (String c : conversations) {
                http.delete(SUPPORT + "/" + c + "/message-streams", "t-web-alice");
            }
            for (SseEvents events : held) {
                assertThat(events.rest()).last().extracting(SseEvents.Event::name).isEqualTo("final");
                events.close();
            }
        }
    }

    @Test
    void aPromptWithASecretIsShownAsBlockedInPlaceOfTheReply() {
        signInAs("alice");
        String id = newConversation("demo");
        typeAndEnter("My key is AKIAIOSFODNN7EXAMPLE, keep it safe");

        WebElement refusal = until("the refusal", d -> {
            List<WebElement> r = d.findElements(By.cssSelector("#messages li.from-assistant .refusal"));
            return r.isEmpty() ? null : r.get(0);
        });
        assertThat(refusal.getText()).startsWith("Blocked by policy");
        assertThat(refusal.getAttribute("role")).isEqualTo("alert");
        assertThat(lastReply().getAttribute("data-status")).isEqualTo("policyBlocked");
        until("the composer free again", d -> byId("send").isEnabled());
        screenshot("blocked");
        assertThat(stored(id, "t-web-alice").toString()).as("nothing of the secret is stored")
                .doesNotContain("AKIAIOSFODNN7EXAMPLE");
    }

    @Test
    void aBudgetRefusalAndAFailureMidStreamAreShownAsErrorEventsInPlaceOfTheReply() {
        signInAs("cora");
        String broke = newConversation("demo");
        TestServer.Response direct = http.post(SUPPORT + "/" + broke + "/message-streams", "t-web-cora",
                message("direct-1", "Can I?"));
        assertThat(direct.body()).as("the refusal comes as the stream's error event").contains("event: error",
                "budgetExceeded");
        typeAndEnter("Can I afford this?");
        WebElement refused = until("the budget refusal", d -> {
            List<WebElement> r = d.findElements(By.cssSelector("#messages li.from-assistant .refusal"));
            return r.isEmpty() ? null : r.get(0);
        });
        assertThat(refused.getText()).startsWith("Refused: not enough credits");
        assertThat(lastReply().getAttribute("data-status")).isEqualTo("budgetExceeded");
        screenshot("budget-refused");

        signInAs("alice");
        newConversation("flaky");
        typeAndEnter("Tell me six words");
        WebElement failed = until("the failure mid-stream", d -> {
            List<WebElement> r = d.findElements(By.cssSelector("#messages li.from-assistant .refusal"));
            return r.isEmpty() ? null : r.get(0);
        });
        assertThat(failed.getText()).startsWith("The reply failed");
        assertThat(lastReply().getAttribute("data-received")).as("deltas came before the error event")
                .isNotNull();
        assertThat(lastReply().getText()).doesNotContain("six");
        until("the composer free again", d -> byId("send").isEnabled());
        screenshot("failed-mid-stream");
    }

    @Test
    void aStreamRefusedWithAnErrorAnswerBeforeAnyEventIsShownInPlaceOfTheReply() throws Exception {
        signInAs("alice");
        String id = newConversation("slow");
        HttpResponse<InputStream> other = http.open(SUPPORT + "/" + id + "/message-streams", "t-web-alice",
                message("other-tab-1", "Another tab streams"));
        try (SseEvents events = new SseEvents(other.body())) {
            assertThat(events.next().name()).isEqualTo("delta");
            TestServer.Response direct = http.post(SUPPORT + "/" + id + "/message-streams", "t-web-alice",
                    message("direct-2", "Me too"));
            assertThat(direct.status()).as("refused before any event").isEqualTo(409);

            typeAndEnter("Me too, from the page");
            WebElement refused = until("the lock refusal", d -> {
                List<WebElement> r = d.findElements(By.cssSelector("#messages li.from-assistant .refusal"));
                return r.isEmpty() ? null : r.get(0);
            });
            assertThat(refused.getText()).startsWith("Another reply is still streaming");
            assertThat(lastReply().getAttribute("data-status")).isEqualTo("conversationLocked");
            assertThat(lastReply().getAttribute("data-received")).as("no event was read").isNull();
            until("the composer free again", d -> byId("send").isEnabled());
            screenshot("locked-refused");
            assertThat(http.delete(SUPPORT + "/" + id + "/message-streams", "t-web-alice").status()).isEqualTo(200);
            assertThat(events.rest()).last().extracting(SseEvents.Event::name).isEqualTo("final");
        }
    }

    @Test
    void aReplyWithHtmlIsShownAsTextItsMarkdownRenderedWithTokensAndCredits() {
        signInAs("alice");
        newConversation("demo");
        byId("context").sendKeys("The user's name is Zed.");
        typeAndEnter("Please inject something");

        WebElement reply = until("the reply complete", d -> {
            WebElement r = lastReply();
            return "COMPLETE".equals(r.getAttribute("data-status")) ? r : null;
        });
        String shown = reply.findElement(By.className("body")).getText();
        assertThat(shown).contains("<img src=x onerror=alert(1)>", "<script>window.parleyPwned = 1; alert(2)</script>");
        assertThat(driver.findElements(By.cssSelector("#messages img, #messages script, #messages iframe")))
                .as("elements made from model text").isEmpty();
        assertThat(js("return window.parleyPwned === undefined;")).isEqualTo(true);
        assertThatThrownBy(() -> driver.switchTo().alert()).isInstanceOf(NoAlertPresentException.class);

        WebElement body = reply.findElement(By.className("body"));
        assertThat(body.findElement(By.tagName("strong")).getText()).isEqualTo("bold");
        assertThat(body.findElement(By.tagName("em")).getText()).isEqualTo("italic");
        assertThat(body.findElement(By.cssSelector(":scope > p > code")).getText()).isEqualTo("code");
        assertThat(body.findElements(By.cssSelector(":scope > ul > li"))).extracting(WebElement::getText)
                .containsExactly("first point", "second point");
        assertThat(body.findElements(By.cssSelector(":scope > ol > li"))).extracting(WebElement::getText)
                .containsExactly("step one", "step two");
        assertThat(body.findElement(By.cssSelector(":scope > pre > code")).getText()).isEqualTo("int x = 1 < 2 ? 3 : 4;");

        String meta = reply.findElement(By.className("meta")).getText();
        assertThat(meta).containsPattern("[0-9]+ tokens in, [0-9]+ out").containsPattern("0\\.[0-9]+ credits used")
                .containsPattern("[0-9]+\\.[0-9]+ credits left");
        assertThat(fast.lastRequestTexts()).as("the additional context reached the model")
                .anyMatch(t -> t.contains("The user's name is Zed."));
        assertThat(byId("context").getAttribute("value")).as("context is for one turn").isEmpty();
        screenshot("injection-as-text");

        typeAndEnter("And again?");
        until("the second reply", d -> lastReply().getText().contains("echo: And again?")
                && "COMPLETE".equals(lastReply().getAttribute("data-status")));
        assertThat(fast.lastRequestTexts()).as("nor with a later turn").noneMatch(t -> t.contains("Zed"));
    }

    @Test
    void thePageIsReadableAt360PixelsWithoutSidewaysScrolling() {
        signInAs("alice");
        newConversation("demo");
        typeAndEnter("A narrow screen with a long word: " + "x".repeat(80));
        until("the reply", d -> "COMPLETE".equals(lastReply().getAttribute("data-status")));
        driver.manage().window().setSize(new Dimension(360, 800));
        until("the narrow layout", d -> ((Number) js("return document.documentElement.clientWidth;")).intValue()
                <= 360);
        Number overflow = (Number) js("return document.documentElement.scrollWidth"
                + " - document.documentElement.clientWidth;");
        assertThat(overflow.intValue()).as("sideways overflow in px").isLessThanOrEqualTo(0);
        assertThat(byId("prompt").isDisplayed()).isTrue();
        assertThat(byId("send").isDisplayed()).isTrue();
        screenshot("narrow-360px");
        driver.manage().window().setSize(new Dimension(1280, 900));
    }

    @Test
    void everyControlHasALabelAndFocusIsVisible() {
        signInAs("alice");
        for (String id : List.of("workspace", "model", "context", "prompt")) {
            assertThat(driver.findElements(By.cssSelector("label[for='" + id + "']"))).as(id).hasSize(1);
        }
        byId("prompt").click();
        String outline = (String) js("return getComputedStyle(document.activeElement).outlineStyle;");
        byId("prompt").sendKeys(Keys.chord(Keys.SHIFT, Keys.TAB));
        String focused = (String) js("return getComputedStyle(document.activeElement).outlineStyle;");
        assertThat(focused).as("keyboard focus outline (was " + outline + " on click)").isEqualTo("solid");
    }
}
