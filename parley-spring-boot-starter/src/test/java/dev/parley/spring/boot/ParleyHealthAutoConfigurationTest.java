package dev.parley.spring.boot;

import dev.parley.api.ConversationEngine;
import dev.parley.api.spi.ModelProvider;
import dev.parley.testing.ScriptedModel;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import javax.sql.DataSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store's health indicator: there with Spring Boot's health module and an engine, absent without either, UP on
 * a store that answers, DOWN (with no message text) on one that does not, replaced by the application's own.
 */
class ParleyHealthAutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ParleyAutoConfiguration.class,
                    ParleyHealthAutoConfiguration.class))
            .withPropertyValues("parley.store.type=memory")
            .withBean("scripted", ModelProvider.class, ScriptedModel::echo);

    @Test
    void withTheHealthModuleTheIndicatorIsThereAndUpOnAWorkingStore() {
        runner.run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(ParleyHealthIndicator.class)
                    .hasBean("parleyHealthIndicator");
            assertThat(context.getBean("parleyHealthIndicator", HealthIndicator.class).health().getStatus())
                    .isEqualTo(Status.UP);
        });
    }

    @Test
    void withoutTheHealthModuleThereIsNoIndicatorAndTheEngineStillStarts() {
        runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class)).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(ConversationEngine.class)
                    .doesNotHaveBean(ParleyHealthIndicator.class).doesNotHaveBean("parleyHealthIndicator");
        });
    }

    @Test
    void withoutAnEngineThereIsNoIndicator() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ParleyHealthAutoConfiguration.class))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ParleyHealthIndicator.class));
    }

    @Test
    void theIndicatorCanBeSwitchedOff() {
        runner.withPropertyValues("management.health.parley.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ParleyHealthIndicator.class));
    }

    @Test
    void aStoreWhoseDataSourceBreaksIsDownWithTheErrorsTypeButNotItsMessage() {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:health-broken;DB_CLOSE_DELAY=-1");
        AtomicBoolean broken = new AtomicBoolean();
        DataSource dataSource = breakable(h2, broken);
        runner.withPropertyValues("parley.store.type=data-source")
                .withBean(DataSource.class, () -> dataSource)
                .run(context -> {
                    HealthIndicator indicator = context.getBean(ParleyHealthIndicator.class);
                    assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
                    broken.set(true);
                    Health health = indicator.health();
                    assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(health.getDetails()).containsKey("error");
                    assertThat(health.getDetails().get("error").toString()).contains("Exception")
                            .doesNotContain("secret");
                    assertThat(health.getDetails().values()).allSatisfy(v ->
                            assertThat(v.toString()).doesNotContain("secret"));
                    broken.set(false);
                    assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
                });
    }

    @Test
    void aClosedEngineIsDown() {
        runner.run(context -> {
            ConversationEngine engine = context.getBean(ConversationEngine.class);
            ParleyHealthIndicator indicator = new ParleyHealthIndicator(engine);
            engine.close();
            Health health = indicator.health();
            assertThat(health.getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.getDetails()).containsEntry("error", IllegalStateException.class.getName());
        });
    }

    @Test
    void aUserBeanNamedParleyHealthIndicatorReplacesIt() {
        HealthIndicator own = () -> Health.outOfService().build();
        runner.withBean("parleyHealthIndicator", HealthIndicator.class, () -> own).run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(ParleyHealthIndicator.class);
            assertThat(context.getBean("parleyHealthIndicator")).isSameAs(own);
        });
    }

    @Test
    void aUserBeanOfTheIndicatorsTypeReplacesIt() {
        try (ConversationEngine other = ConversationEngine.builder().model("own", ScriptedModel.echo()).build()) {
            runner.withBean("myHealth", ParleyHealthIndicator.class, () -> new ParleyHealthIndicator(other))
                    .run(context -> assertThat(context).hasNotFailed().hasSingleBean(ParleyHealthIndicator.class)
                            .hasBean("myHealth").doesNotHaveBean("parleyHealthIndicator"));
        }
    }

    /**
     * {@code target}, whose connections fail while {@code broken} is set, with a message carrying a stored value
     * (as a database's error may), which the health must not show.
     */
    private static DataSource breakable(DataSource target, AtomicBoolean broken) {
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[]{DataSource.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConnection") && broken.get()) {
                        throw new SQLException("connection refused while reading 'secret value'");
                    }
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
