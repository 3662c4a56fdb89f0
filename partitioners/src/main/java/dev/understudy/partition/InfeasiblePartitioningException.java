package dev.understudy.partition;

/**
 * A configuration that is valid on its own but cannot be met by the data (more clients than rows,
 * more labels per client than labels, a Dirichlet draw that keeps leaving clients too small). The
 * message names the keys involved and says which way to change them.
 */
public class InfeasiblePartitioningException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public InfeasiblePartitioningException(String message) {
        super(message);
    }
}
