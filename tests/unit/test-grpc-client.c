/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "csi.pb-c.h"
#include "grpc-client.h"
#include "http-client.h"

static void frame_round_trips_a_message(void **state) {
        Csi__V1__GetPluginInfoResponse m = CSI__V1__GET_PLUGIN_INFO_RESPONSE__INIT;
        m.name = (char *)"csi.alluxio.com";
        m.vendor_version = (char *)"2.9.0";
        uint8_t *buf;
        size_t n;
        assert_int_equal(grpc_frame_encode(&m.base, &buf, &n), 0);
        assert_int_equal(buf[0], 0);
        assert_int_equal(n, 5 + protobuf_c_message_get_packed_size(&m.base));
        assert_int_equal((size_t)buf[4], n - 5);

        const uint8_t *msg;
        size_t len;
        assert_int_equal(grpc_frame_decode(buf, n, 4096, &msg, &len), 0);
        Csi__V1__GetPluginInfoResponse *d = csi__v1__get_plugin_info_response__unpack(NULL, len, msg);
        assert_non_null(d);
        assert_string_equal(d->name, "csi.alluxio.com");
        csi__v1__get_plugin_info_response__free_unpacked(d, NULL);
        free(buf);
}

static void empty_message_is_a_five_byte_frame(void **state) {
        Csi__V1__ProbeRequest m = CSI__V1__PROBE_REQUEST__INIT;
        uint8_t *buf;
        size_t n;
        assert_int_equal(grpc_frame_encode(&m.base, &buf, &n), 0);
        assert_int_equal(n, 5);
        assert_memory_equal(buf, "\0\0\0\0\0", 5);
        free(buf);
}

static void truncated_frames_are_bad_messages(void **state) {
        const uint8_t *msg;
        size_t len;
        const uint8_t header_only[] = {0, 0, 0, 0, 10};
        const uint8_t short_header[] = {0, 0, 0};
        const uint8_t partial[] = {0, 0, 0, 0, 4, 'a', 'b'};
        assert_int_equal(grpc_frame_decode(header_only, sizeof(header_only), 4096, &msg, &len), -EBADMSG);
        assert_int_equal(grpc_frame_decode(short_header, sizeof(short_header), 4096, &msg, &len), -EBADMSG);
        assert_int_equal(grpc_frame_decode(partial, sizeof(partial), 4096, &msg, &len), -EBADMSG);
        assert_int_equal(grpc_frame_decode(NULL, 0, 4096, &msg, &len), -EBADMSG);
}

static void trailing_data_after_the_message_is_rejected(void **state) {
        const uint8_t two[] = {0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0};
        const uint8_t *msg;
        size_t len;
        assert_int_equal(grpc_frame_decode(two, sizeof(two), 4096, &msg, &len), -EBADMSG);
}

static void oversized_and_compressed_messages_are_refused(void **state) {
        const uint8_t big[] = {0, 0x7f, 0xff, 0xff, 0xff};
        const uint8_t compressed[] = {1, 0, 0, 0, 0};
        const uint8_t bad_flag[] = {7, 0, 0, 0, 0};
        const uint8_t *msg;
        size_t len;
        assert_int_equal(grpc_frame_decode(big, sizeof(big), 4 * 1024 * 1024, &msg, &len), -EFBIG);
        assert_int_equal(
                grpc_frame_decode(compressed, sizeof(compressed), 4096, &msg, &len), -EPROTONOSUPPORT);
        assert_int_equal(grpc_frame_decode(bad_flag, sizeof(bad_flag), 4096, &msg, &len), -EBADMSG);
}

static void timeouts_use_at_most_eight_digits(void **state) {
        char buf[16];
        grpc_format_timeout(3 * USEC_PER_SEC, buf);
        assert_string_equal(buf, "3000000u");
        grpc_format_timeout(250 * USEC_PER_MSEC + 1, buf);
        assert_string_equal(buf, "250001u");
        grpc_format_timeout(200 * USEC_PER_SEC, buf);
        assert_string_equal(buf, "200000m");
        grpc_format_timeout(30 * USEC_PER_DAY, buf);
        assert_string_equal(buf, "2592000S");
        grpc_format_timeout(0, buf);
        assert_string_equal(buf, "0u");
}

static void messages_are_percent_decoded(void **state) {
        char *s = grpc_percent_decode("backend exploded: 50%25 of disks%20gone%");
        assert_string_equal(s, "backend exploded: 50% of disks gone%");
        free(s);
        s = grpc_percent_decode("caf%C3%A9 %zz");
        assert_string_equal(s, "café %zz");
        free(s);
}

static void status_codes_map_to_names_and_errors(void **state) {
        assert_string_equal(grpc_status_to_string(GRPC_UNIMPLEMENTED), "UNIMPLEMENTED");
        assert_string_equal(grpc_status_to_string(GRPC_UNAUTHENTICATED), "UNAUTHENTICATED");
        assert_string_equal(grpc_status_to_string(99), "?");
        assert_string_equal(grpc_status_to_string(-1), "?");
        assert_int_equal(grpc_status_to_errno(GRPC_OK), 0);
        assert_int_equal(grpc_status_to_errno(GRPC_DEADLINE_EXCEEDED), -ETIMEDOUT);
        assert_int_equal(grpc_status_to_errno(GRPC_UNIMPLEMENTED), -EOPNOTSUPP);
        assert_int_equal(grpc_status_to_errno(GRPC_UNAVAILABLE), -EHOSTUNREACH);
        assert_int_equal(grpc_status_to_errno(GRPC_PERMISSION_DENIED), -EPERM);
        assert_int_equal(grpc_status_to_errno(42), -EIO);
        for (int s = 1; s < _GRPC_STATUS_MAX; s++)
                assert_true(grpc_status_to_errno(s) < 0);
}

static void trailers_are_found_last_one_winning(void **state) {
        char *headers[] = {(char *)"content-type: application/grpc", (char *)"grpc-status: 0",
                (char *)"grpc-status-details-bin: xx", (char *)"grpc-status:   14",
                (char *)"grpc-message: unavailable%21", NULL};
        HttpResponse r = {.headers = headers};
        assert_string_equal(http_response_header(&r, "grpc-status"), "14");
        assert_string_equal(http_response_header(&r, "grpc-message"), "unavailable%21");
        assert_null(http_response_header(&r, "grpc"));
        assert_null(http_response_header(&r, "missing"));
}

static void missing_socket_and_refused_connection_are_told_apart(void **state) {
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        GrpcCall call = {.method = "/csi.v1.Identity/Probe",
                .request = &req.base,
                .response_type = &csi__v1__probe_response__descriptor,
                .timeout = USEC_PER_SEC};
        GrpcResult res;
        GrpcTarget missing = {.address = "unix:///nonexistent/vigil-test/csi.sock"};
        assert_int_equal(grpc_call(&missing, &call, &res), -ENOENT);
        GrpcTarget file = {.address = "/etc/hostname"};
        assert_int_equal(grpc_call(&file, &call, &res), -ENOTSOCK);
        GrpcTarget refused = {.address = "http://127.0.0.1:9"};
        assert_int_equal(grpc_call(&refused, &call, &res), -ECONNREFUSED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(frame_round_trips_a_message),
                cmocka_unit_test(empty_message_is_a_five_byte_frame),
                cmocka_unit_test(truncated_frames_are_bad_messages),
                cmocka_unit_test(trailing_data_after_the_message_is_rejected),
                cmocka_unit_test(oversized_and_compressed_messages_are_refused),
                cmocka_unit_test(timeouts_use_at_most_eight_digits),
                cmocka_unit_test(messages_are_percent_decoded),
                cmocka_unit_test(status_codes_map_to_names_and_errors),
                cmocka_unit_test(trailers_are_found_last_one_winning),
                cmocka_unit_test(missing_socket_and_refused_connection_are_told_apart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
