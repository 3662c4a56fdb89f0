package dev.understudy.job.config;

/**
 * A configuration that cannot be loaded: unknown key, wrong type, invalid value or unreadable file.
 * The message names the full dotted key, the value and, where known, the file or {@code --set}
 * argument it came from.
 */
public class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
