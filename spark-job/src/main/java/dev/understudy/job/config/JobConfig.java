package dev.understudy.job.config;

import dev.understudy.partition.PartitioningConfig;
import java.util.Map;

/**
 * The whole configuration of a federated fine-tuning job: a tree of records, one per section, each
 * validated in its compact constructor. Build it with {@link ConfigLoader#load}; write the resolved
 * form ({@link ConfigLoader#toYaml}) next to every checkpoint so that a run can be reproduced from it.
 *
 * <p><b>Precedence</b>, lowest first (a later layer overrides an earlier one key by key; maps are
 * merged recursively, lists and scalars are replaced):
 *
 * <pre>
 *   record defaults &lt; conf/defaults.yaml &lt; each --conf file in order &lt; --set overrides in order
 * </pre>
 *
 * For example, with {@code conf/defaults.yaml} setting {@code client.lr: 0.0002},
 *
 * <pre>
 *   understudy --conf conf/examples/fedavg-tiny.yaml --conf conf/my-cluster.yaml \
 *              --set client.lr=5e-4 --set model.lora.target_modules=[q_proj,k_proj,v_proj]
 * </pre>
 *
 * takes every key from the record defaults, then {@code defaults.yaml}, then {@code fedavg-tiny.yaml},
 * then {@code my-cluster.yaml}, and finally sets {@code client.lr} to 5e-4 whatever the files say.
 * A {@code --set} value is parsed as YAML ({@code null}, numbers, {@code [a, b]} lists, {@code {k: v}}
 * maps); {@code --set section=null} resets a whole section to its record defaults. Unknown keys are
 * errors, except inside the free-form maps {@code server.strategy_params}, {@code method_params} and
 * {@code data.label_words}, and inside {@code partitioning}, which {@link PartitioningConfig#fromMap}
 * validates. {@code client.local_steps} and {@code client.local_epochs} are exclusive: when both are
 * positive, the one set by the higher layer wins and the other becomes 0 (both in one layer is an error).
 *
 * <p>The {@code partitioning} section is required when {@code data.client_column} is null (rows are
 * assigned to simulated clients by a partitioner) and ignored by the job otherwise. Its {@code seed}
 * defaults to the top-level {@code seed}; for {@code classification} data its {@code label_column}
 * defaults to {@code data.label_column}, and its {@code row_key_column} to {@code data.row_key_column}.
 *
 * @param data {@code data.*}
 * @param partitioning {@code partitioning.*}, or null when {@code data.client_column} names the clients
 * @param model {@code model.*}
 * @param client {@code client.*}
 * @param server {@code server.*}
 * @param output {@code output.*}
 * @param seed {@code seed}: root of all job randomness (sampling, dropout, partitioning by default)
 * @param method {@code method}: the federated fine-tuning method
 * @param methodParams {@code method_params}: free-form parameters of the method
 * @param privacy {@code privacy.*}: client-level differential privacy (off by default)
 * @param attack {@code attack.*}: a simulated Byzantine attack for experiments (off by default)
 */
public record JobConfig(DataConfig data, PartitioningConfig partitioning, ModelConfig model, ClientConfig client,
        ServerConfig server, OutputConfig output, long seed, String method, Map<String, Object> methodParams,
        PrivacyConfig privacy, AttackConfig attack) {

    public JobConfig {
        Checks.notNull("data", data, "a section");
        Checks.notNull("model", model, "a section");
        Checks.notNull("client", client, "a section");
        Checks.notNull("server", server, "a section");
        Checks.notNull("output", output, "a section");
        Checks.notNull("privacy", privacy, "a section");
        Checks.notNull("attack", attack, "a section");
        if (data.clientColumn() == null && partitioning == null) {
            throw new IllegalArgumentException("Missing partitioning section: data.client_column is null, so rows are"
                    + " assigned to clients by a partitioner; add one (e.g. --set partitioning={type: iid, num_clients: 10})"
                    + " or set data.client_column to the column naming each row's client");
        }
        if (partitioning != null && data.clientColumn() == null) {
            if (data.kind() == DataConfig.Kind.CLASSIFICATION && partitioning.labelColumn() != null) {
                Checks.check(partitioning.labelColumn().equals(data.labelColumn()), "partitioning.label_column",
                        partitioning.labelColumn(), "data.label_column ('" + data.labelColumn() + "') for"
                                + " classification data; set only data.label_column");
            }
            if (data.rowKeyColumn() != null && partitioning.rowKeyColumn() != null) {
                Checks.check(partitioning.rowKeyColumn().equals(data.rowKeyColumn()), "partitioning.row_key_column",
                        partitioning.rowKeyColumn(), "data.row_key_column ('" + data.rowKeyColumn()
                                + "'); set only data.row_key_column");
            }
        }
        Checks.name("method", method, false);
        methodParams = Checks.freeze(methodParams);
    }

    /** Whether rows are assigned to clients by {@link #partitioning()} rather than by a data column. */
    public boolean usesPartitioner() {
        return data.clientColumn() == null;
    }

    @Override
    public String toString() {
        return "JobConfig" + ConfigLoader.toMap(this);
    }
}
