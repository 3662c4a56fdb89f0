package dev.understudy.ops.util;

import java.io.IOException;

/**
 * A model, adapter or tensor file is malformed or uses a feature Understudy does not support. The
 * message names the file (or config field) and what is wrong with it.
 */
public class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
