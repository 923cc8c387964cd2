package org.dpsgd.run;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/** The project's JSON mappers: one for human-readable files, one compact for checkpoint payloads. */
public final class Json {
    private Json() {}

    /** run.json, metrics.jsonl: plain JSON, non-finite numbers allowed as NaN. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(com.fasterxml.jackson.core.json.JsonWriteFeature.WRITE_NAN_AS_STRINGS.mappedFeature(), true)
            .configure(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS.mappedFeature(), true);

    public static final ObjectMapper PRETTY = MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Checkpoint payloads: float[] and double[] become base64 of their little-endian bytes (exact and
     * 3-4x smaller than decimal text), so any record-shaped trainer state round-trips bit for bit.
     */
    public static final ObjectMapper CHECKPOINT = new ObjectMapper()
            .registerModule(new SimpleModule("exact-arrays")
                    .addSerializer(float[].class, new FloatsOut())
                    .addDeserializer(float[].class, new FloatsIn())
                    .addSerializer(double[].class, new DoublesOut())
                    .addDeserializer(double[].class, new DoublesIn()));

    private static final class FloatsOut extends StdSerializer<float[]> {
        FloatsOut() {
            super(float[].class);
        }

        @Override
        public void serialize(float[] v, JsonGenerator g, SerializerProvider p) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            g.writeString(Base64.getEncoder().encodeToString(b.array()));
        }
    }

    private static final class FloatsIn extends StdDeserializer<float[]> {
        FloatsIn() {
            super(float[].class);
        }

        @Override
        public float[] deserialize(JsonParser p, DeserializationContext c) throws IOException {
            if (p.currentToken() == JsonToken.START_ARRAY) {
                double[] d = p.readValueAs(double[].class);
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
                return f;
            }
            ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(p.getValueAsString()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[b.remaining() / 4];
            b.asFloatBuffer().get(v);
            return v;
        }
    }

    private static final class DoublesOut extends StdSerializer<double[]> {
        DoublesOut() {
            super(double[].class);
        }

        @Override
        public void serialize(double[] v, JsonGenerator g, SerializerProvider p) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(v);
            g.writeString(Base64.getEncoder().encodeToString(b.array()));
        }
    }

    private static final class DoublesIn extends StdDeserializer<double[]> {
        DoublesIn() {
            super(double[].class);
        }

        @Override
        public double[] deserialize(JsonParser p, DeserializationContext c) throws IOException {
            if (p.currentToken() == JsonToken.START_ARRAY) {
                java.util.List<Double> list = new java.util.ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) list.add(p.getValueAsDouble());
                return list.stream().mapToDouble(Double::doubleValue).toArray();
            }
            ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(p.getValueAsString()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            double[] v = new double[b.remaining() / 8];
            b.asDoubleBuffer().get(v);
            return v;
        }
    }
}
