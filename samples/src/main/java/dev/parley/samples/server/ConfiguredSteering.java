package dev.parley.samples.server;

import dev.parley.api.spi.SteeringResolver;
import dev.parley.samples.server.config.ServerConfig;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The brand voices and target audiences of the configuration, by organization and id: what a conversation's
 * {@code brandVoiceId} and {@code targetAudienceId} resolve to. An id the configuration does not list is refused by
 * the engine when a conversation is created or patched. Immutable and thread safe.
 */
final class ConfiguredSteering implements SteeringResolver {
    private final Map<String, String> brandVoices;
    private final Map<String, String> targetAudiences;

    ConfiguredSteering(List<ServerConfig.SteeringText> brandVoices, List<ServerConfig.SteeringText> targetAudiences) {
        this.brandVoices = index(brandVoices);
        this.targetAudiences = index(targetAudiences);
    }

    private static Map<String, String> index(List<ServerConfig.SteeringText> entries) {
        Map<String, String> map = new HashMap<>();
        for (ServerConfig.SteeringText e : entries) {
            map.put(key(Objects.requireNonNull(e.organizationId()), Objects.requireNonNull(e.id())),
                    Objects.requireNonNull(e.text()));
        }
        return Map.copyOf(map);
    }

    private static String key(String organizationId, String id) {
        return organizationId.length() + ":" + organizationId + "/" + id;
    }

    @Override
    public Optional<String> brandVoice(String organizationId, String brandVoiceId) {
        return Optional.ofNullable(brandVoices.get(key(organizationId, brandVoiceId)));
    }

    @Override
    public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
        return Optional.ofNullable(targetAudiences.get(key(organizationId, targetAudienceId)));
    }
}
