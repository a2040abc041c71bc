package dev.parley.core.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.Maintenance;
import dev.parley.api.internal.Checks;
import dev.parley.api.retention.PurgeReport;
import dev.parley.api.retention.RetentionRule;
import dev.parley.api.spi.ConversationPurges;
import dev.parley.api.values.AuditEvent;

import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Maintenance} over the store's {@link ConversationPurges}. Thread safe: holds no state of its own. */
final class EngineMaintenance implements Maintenance {
    private static final Logger log = LoggerFactory.getLogger(EngineMaintenance.class);
    /** The actor of the audit events a purge or an erasure appends. */
    static final String ACTOR = "parley:maintenance";
    /** Conversations read per page of candidates. */
    private static final int PAGE = 100;
    /** Messages deleted or changed per transaction. */
    private static final int BATCH = 500;

    private final CoreServices services;
    private final Runnable checkOpen;

    EngineMaintenance(CoreServices services, Runnable checkOpen) {
        this.services = services;
        this.checkOpen = checkOpen;
    }

    private ConversationPurges purges() {
        checkOpen.run();
        if (services.store() instanceof ConversationPurges purges) {
            return purges;
        }
        throw new UnsupportedOperationException("the engine's store " + services.store().getClass().getName()
                + " does not purge: it is no ConversationPurges");
    }

    @Override
    public PurgeReport purge(RetentionRule rule) {
        if (rule == null) {
            throw new InvalidRequestException("rule", "is required");
        }
        ConversationPurges purges = purges();
        Instant now = services.clock().instant();
        Instant inactiveBefore = rule.inactiveFor() == null ? null : now.minus(rule.inactiveFor());
        Instant deletedBefore = rule.deletedFor() == null ? null : now.minus(rule.deletedFor());
        PurgeReport report = forEach(after -> purges.purgeCandidates(rule.organizationId(), rule.workspaceId(),
                inactiveBefore, deletedBefore, after, PAGE), id -> purgeOne(purges, id, false, "retention"));
        log.info("purged {} conversations ({} messages) of organization {}", report.conversations(),
                report.messages(), rule.organizationId());
        return report;
    }

    @Override
    public PurgeReport erase(String organizationId, String userId) {
        Checks.id("organizationId", organizationId);
        Checks.id("userId", userId);
        ConversationPurges purges = purges();
        PurgeReport owned = forEach(after -> purges.ownedBy(organizationId, userId, after, PAGE),
                id -> purgeOne(purges, id, true, "erasure"));
        PurgeReport tagged = forEach(after -> purges.inOrganization(organizationId, after, PAGE), id -> {
            AuditEvent[] made = new AuditEvent[1];
            long erased = purges.eraseTagged(id, userId, BATCH, (org, ws, n) -> made[0] = event(
                    AuditEvent.Type.USER_ERASED, id, org, ws, "messages=" + n));
            if (made[0] != null) {
                services.notifySink(made[0]);
            }
            return new PurgeReport(0, 0, erased);
        });
        purges.unlinkUser(organizationId, userId, "erased-" + UUID.randomUUID());
        PurgeReport report = owned.plus(tagged);
        log.info("erased a user of organization {}: {} conversations ({} messages) deleted, {} messages of other "
                + "conversations erased", organizationId, report.conversations(), report.messages(),
                report.messagesErased());
        return report;
    }

    private PurgeReport purgeOne(ConversationPurges purges, String id, boolean unlinkLedger, String why) {
        AuditEvent[] made = new AuditEvent[1];
        OptionalLong messages = purges.purge(id, BATCH, unlinkLedger, (org, ws, n) -> made[0] = event(
                AuditEvent.Type.CONVERSATION_PURGED, id, org, ws, why + ", messages=" + n));
        if (made[0] != null) {
            services.notifySink(made[0]);
        }
        return messages.isPresent() ? new PurgeReport(1, messages.getAsLong(), 0) : PurgeReport.NONE;
    }

    private AuditEvent event(AuditEvent.Type type, String conversationId, String org, String ws, String detail) {
        return new AuditEvent(services.newId(), type, conversationId, org, ws, ACTOR, services.clock().instant(), detail);
    }

    /** Pages through ids with {@code page} (given the last id so far), applying {@code each} to every one. */
    private static PurgeReport forEach(java.util.function.Function<String, List<String>> page,
                                       java.util.function.Function<String, PurgeReport> each) {
        PurgeReport report = PurgeReport.NONE;
        String after = null;
        while (true) {
            List<String> ids = page.apply(after);
            for (String id : ids) {
                report = report.plus(each.apply(id));
            }
            if (ids.size() < PAGE) {
                return report;
            }
            after = ids.get(ids.size() - 1);
        }
    }
}
