package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.io.Serializable;

/**
 * A client that was asked to train in a round but returned no update. Failures are data, as in
 * Flower: strategies decide whether a round with failures still produces a new global vector.
 *
 * @param clientId the client's id
 * @param reason human-readable cause, e.g. the exception message from the executor
 */
public record ClientFailure(String clientId, String reason) implements Serializable {
    public ClientFailure {
        checkNotNull(clientId, "clientId");
        checkNotNull(reason, "reason");
    }
}
