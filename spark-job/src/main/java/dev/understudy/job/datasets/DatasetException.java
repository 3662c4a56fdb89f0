package dev.understudy.job.datasets;

/**
 * A dataset could not be fetched, verified or parsed. The message names the package, file and row
 * and says what to do. It extends {@link IllegalStateException} so that the command line prints the
 * message alone, without a stack trace.
 */
public class DatasetException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
