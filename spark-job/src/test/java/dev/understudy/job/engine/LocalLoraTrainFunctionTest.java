package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.train.LrSchedule;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

class LocalLoraTrainFunctionTest {
    @Test
    void clientsAreTrainedOnlyAsTheResultsAreConsumed() throws Exception {
        // a model that does not exist: training (loading the model) fails, so a call that trained
        // eagerly would throw before returning the iterator
        TrainSettings settings = new TrainSettings("file:///nonexistent/understudy-model", 4, 8, 0.0, List.of("q_proj"), 1,
                1, 1, 1e-3, LrSchedule.Kind.CONSTANT, 0, 0, 1.0, 0.0, 1.0, 1, 0, 0);
        List<ClientData.Tokens> rows = List.of(new ClientData.Tokens(new int[] {5, 6, 7}, 1));
        LocalLoraTrainFunction f = new LocalLoraTrainFunction(1, null, Map.of(), Set.of("a", "b"), settings);
        Iterator<ClientResult> it = f.call(List.of(new Tuple2<>("b", new ClientData("b", rows, List.of())),
                new Tuple2<>("a", new ClientData("a", rows, List.of())),
                new Tuple2<>("c", new ClientData("c", rows, List.of()))).iterator());
        assertThat(it.hasNext()).isTrue();
        assertThatThrownBy(it::next).hasMessageContaining("nonexistent");
    }
}
