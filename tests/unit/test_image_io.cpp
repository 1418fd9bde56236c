// lib/image_io.cpp against PIL: every case of make_images.py's format matrix must decode to
// PIL's array bit for bit, and every bad file must fail with the right code and message.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error.h"
#include "image_io.h"

namespace {

const std::string images_dir = PTJS_IMAGES_DIR;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("missing fixture " + path + " (run make_images.py)");
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Just enough .npy for make_images.py's uint8 C-order arrays (lib/npy is tested elsewhere).
cv::Mat load_u8_npy(const std::string& path) {
  const std::string b = slurp(path);
  const size_t header_len = static_cast<unsigned char>(b.at(8)) |
                            static_cast<unsigned char>(b.at(9)) << 8;
  const std::string header = b.substr(10, header_len);
  if (header.find("'|u1'") == std::string::npos) throw std::runtime_error("not u1: " + path);
  std::vector<int> shape;
  std::istringstream dims(header.substr(header.find('(') + 1));
  int d = 0;
  char sep = 0;
  while (dims >> d) {
    shape.push_back(d);
    if (!(dims >> sep) || sep == ')') break;
  }
  const int channels = shape.size() == 3 ? shape[2] : 1;
  cv::Mat m(shape.at(0), shape.at(1), CV_MAKETYPE(CV_8U, channels));
  const size_t data = 10 + header_len;
  if (b.size() - data != m.total() * m.elemSize()) throw std::runtime_error("bad npy " + path);
  std::memcpy(m.data, b.data() + data, b.size() - data);
  return m;
}

struct manifest_row {
  std::string name, file, mode, expect;
};

std::vector<manifest_row> manifest(const std::string& set) {
  std::ifstream f(images_dir + "/" + set + "/manifest.tsv");
  std::vector<manifest_row> rows;
  std::string line;
  while (std::getline(f, line)) {
    manifest_row r;
    std::istringstream in(line);
    std::getline(in, r.name, '\t');
    std::getline(in, r.file, '\t');
    std::getline(in, r.mode, '\t');
    std::getline(in, r.expect);
    rows.push_back(r);
  }
  return rows;
}

// Empty when equal, else what differs (shape or max abs difference and where).
std::string compare(const cv::Mat& got, const cv::Mat& want) {
  if (got.size() != want.size() || got.type() != want.type()) {
    std::ostringstream os;
    os << "shape/type differ: got " << got.cols << "x" << got.rows << "x" << got.channels()
       << ", want " << want.cols << "x" << want.rows << "x" << want.channels();
    return os.str();
  }
  cv::Mat diff;
  cv::absdiff(got.reshape(1), want.reshape(1), diff);
  double max_diff = 0;
  cv::Point at;
  cv::minMaxLoc(diff, nullptr, &max_diff, nullptr, &at);
  if (max_diff == 0) return "";
  std::ostringstream os;
  os << "max diff " << max_diff << " at x=" << at.x / want.channels() << " y=" << at.y << ", "
     << cv::countNonZero(diff) << " samples differ";
  return os.str();
}

ptjs::decode_options options_for(const std::string& mode) {
  ptjs::decode_options o;
  o.exif_transpose = mode.find("+exif") != std::string::npos;
  return o;
}

ptjs::color_mode mode_of(const std::string& mode) {
  return ptjs::parse_color_mode(mode.substr(0, mode.find('+')));
}

// Decodes every manifest row of `set` whose name starts with `prefix` and checks it against
// PIL: same pixels where PIL decodes, a ptjs::error where PIL refuses.
void check_against_pil(const std::string& set, const std::string& prefix) {
  int checked = 0;
  for (const manifest_row& r : manifest(set)) {
    if (r.name.compare(0, prefix.size(), prefix) != 0) continue;
    SCOPED_TRACE(set + "/" + r.file + " as " + r.mode);
    ++checked;
    const std::string bytes = slurp(images_dir + "/" + set + "/" + r.file);
    if (r.expect.rfind("npy:", 0) == 0) {
      const cv::Mat want = load_u8_npy(images_dir + "/" + set + "/" + r.expect.substr(4));
      try {
        const cv::Mat got = ptjs::decode_image(bytes, mode_of(r.mode), options_for(r.mode));
#ifndef PTJS_WITH_LIBJPEG
        // Without libjpeg linked into ptjs_io, CMYK JPEG goes through OpenCV's conversion.
        if (r.name == "jpeg_cmyk") {
          EXPECT_LE(cv::norm(got, want, cv::NORM_INF), 1.0);
          std::printf("note: jpeg_cmyk is not bit-exact: ptjs_io built without PTJS_WITH_LIBJPEG\n");
          continue;
        }
#endif
        EXPECT_EQ(compare(got, want), "") << r.name << " " << r.mode;
      } catch (const ptjs::error& e) {
        ADD_FAILURE() << r.name << " " << r.mode << ": PIL decodes it, we threw: " << e.what();
      }
    } else {
      try {
        ptjs::decode_image(bytes, mode_of(r.mode), options_for(r.mode));
        ADD_FAILURE() << r.name << ": PIL refuses it (" << r.expect << "), we decoded it";
      } catch (const ptjs::error& e) {
        EXPECT_TRUE(e.code() == ptjs::error_code::invalid_input ||
                    e.code() == ptjs::error_code::too_large)
            << e.what();
      }
    }
  }
  EXPECT_GT(checked, 0) << "no '" << prefix << "' cases in " << set << "/manifest.tsv";
}

TEST(image_io_parity, jpeg) { check_against_pil("formats", "jpeg_"); }
TEST(image_io_parity, png) { check_against_pil("formats", "png_"); }
TEST(image_io_parity, bmp) { check_against_pil("formats", "bmp_"); }
TEST(image_io_parity, tiff) { check_against_pil("formats", "tiff_"); }
TEST(image_io_parity, webp) { check_against_pil("formats", "webp_"); }
TEST(image_io_parity, gif) { check_against_pil("formats", "gif_"); }
// Files cut at many points: we refuse exactly what PIL refuses ("image file is truncated").
TEST(image_io_parity, truncation_sweep) { check_against_pil("bad", "cut_"); }

TEST(image_io_sniff, header_matches_decoded_size) {
  for (const manifest_row& r : manifest("formats")) {
    // A GIF frame may overflow the logical screen the header gives; PIL grows the canvas.
    if (r.mode != "RGB" || r.name == "gif_frame_off_screen") continue;
    SCOPED_TRACE(r.file);
    const cv::Mat want = load_u8_npy(images_dir + "/formats/" + r.expect.substr(4));
    const auto h = ptjs::sniff_image_header(slurp(images_dir + "/formats/" + r.file));
    ASSERT_TRUE(h.has_value());
    // libtiff (in PIL and OpenCV alike) applies a TIFF's own Orientation tag while decoding;
    // the header holds the stored size.
    const bool transposed = r.name == "tiff_exif6";
    EXPECT_EQ(h->width, transposed ? want.rows : want.cols);
    EXPECT_EQ(h->height, transposed ? want.cols : want.rows);
    const std::string prefix = r.name.substr(0, r.name.find('_'));
    std::string format = h->format;
    for (char& c : format) c = static_cast<char>(std::tolower(c));
    EXPECT_EQ(format, prefix);
  }
}

TEST(image_io_sniff, unknown_and_short_inputs) {
  EXPECT_FALSE(ptjs::sniff_image_header("").has_value());
  EXPECT_FALSE(ptjs::sniff_image_header("hello").has_value());
  const auto cut = ptjs::sniff_image_header("\x89PNG\r\n\x1a\n");
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->format, "PNG");
  EXPECT_EQ(cut->width, 0);
}

// --- each bad input: its code and message ---------------------------------------------------

struct failure {
  ptjs::error_code code;
  std::string message;
};

failure decode_failure(const std::string& file, const ptjs::decode_options& o = {}) {
  const std::string bytes = slurp(images_dir + "/bad/" + file);
  try {
    ptjs::decode_image(bytes, ptjs::color_mode::rgb, o);
  } catch (const ptjs::error& e) {
    return {e.code(), e.what()};
  }
  return {ptjs::error_code::internal, "<decoded without error>"};
}

void expect_failure(const std::string& file, ptjs::error_code code, const std::string& text) {
  SCOPED_TRACE(file);
  const failure f = decode_failure(file);
  EXPECT_EQ(static_cast<int>(f.code), static_cast<int>(code)) << f.message;
  EXPECT_NE(f.message.find(text), std::string::npos) << "message: " << f.message;
}

constexpr auto invalid = ptjs::error_code::invalid_input;
constexpr auto too_large = ptjs::error_code::too_large;

TEST(image_io_errors, empty_file) { expect_failure("empty.jpg", invalid, "cannot decode image: empty file"); }
TEST(image_io_errors, text_named_jpg) {
  expect_failure("text.jpg", invalid, "cannot decode image: not a JPEG/PNG/BMP/TIFF/WebP/GIF file");
  expect_failure("random.bin", invalid, "not a JPEG/PNG/BMP/TIFF/WebP/GIF file");
}
TEST(image_io_errors, truncated_jpeg) {
  expect_failure("jpeg_truncated_half.jpg", invalid, "cannot decode image: JPEG file is truncated");
  expect_failure("jpeg_truncated_no_eoi.jpg", invalid, "JPEG file is truncated");
  expect_failure("jpeg_truncated_progressive.jpg", invalid, "JPEG file is truncated");
  expect_failure("jpeg_header_only.jpg", invalid, "JPEG file is truncated");
  expect_failure("jpeg_soi_only.jpg", invalid, "JPEG file is truncated or corrupt (no valid header)");
}
TEST(image_io_errors, corrupt_png) {
  expect_failure("png_bad_crc.png", invalid, "cannot decode image: corrupt or truncated PNG file");
  expect_failure("png_bad_ihdr_crc.png", invalid, "PNG file is corrupt (bad CRC in chunk 'IHDR')");
  expect_failure("png_truncated.png", invalid, "cannot decode image: PNG file is truncated");
  expect_failure("png_signature_only.png", invalid, "PNG file is truncated or corrupt (no valid header)");
}
TEST(image_io_errors, other_truncated_files) {
  expect_failure("bmp_truncated.bmp", invalid, "BMP file is truncated");
  expect_failure("webp_truncated.webp", invalid, "corrupt or truncated WEBP file");
  expect_failure("tiff_truncated.tif", invalid, "TIFF file");
  expect_failure("gif_truncated.gif", invalid, "cannot decode image: GIF file is truncated");
  expect_failure("gif_early_eoi.gif", invalid, "cannot decode image: GIF file is truncated");
}
TEST(image_io_errors, decompression_bombs_refused_from_the_header) {
  const auto start = std::chrono::steady_clock::now();
  expect_failure("png_bomb.png", too_large,
                 "image too large: PNG of 30000x30000 = 900000000 pixels, over the limit of "
                 "178956970 pixels");
  expect_failure("jpeg_bomb.jpg", too_large, "JPEG of 60000x60000 = 3600000000 pixels");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  ptjs::decode_options none;
  none.max_pixels = 0;
  EXPECT_EQ(decode_failure("png_one_pixel.png", none).code, too_large);
}
TEST(image_io_errors, side_limit) {
  expect_failure("png_1x100000.png", too_large,
                 "image too large: PNG of 1x100000 pixels, over the limit of 65500 pixels a side");
  expect_failure("png_100000x1.png", too_large, "PNG of 100000x1 pixels");
  ptjs::decode_options wide;
  wide.max_side = 100000;
  const cv::Mat m = ptjs::decode_image(slurp(images_dir + "/bad/png_1x100000.png"),
                                       ptjs::color_mode::l, wide);
  EXPECT_EQ(m.rows, 100000);
  EXPECT_EQ(m.cols, 1);
  EXPECT_EQ(compare(m, load_u8_npy(images_dir + "/bad/png_1x100000.L.npy")), "");
}
// The other bad files PIL decodes (1x1, a PNG without IEND) decode to PIL's pixels.
TEST(image_io_errors, files_pil_accepts) {
  check_against_pil("bad", "png_one_pixel");
  check_against_pil("bad", "png_no_iend");
}

// Mutated files decode or throw ptjs::error; nothing else (no crash, no cv::Exception).
// PTJS_FUZZ_ITERATIONS=20000 makes it a longer fuzz run (under a sanitizer build).
TEST(image_io_errors, mutated_files_never_crash) {
  const char* env = std::getenv("PTJS_FUZZ_ITERATIONS");
  const int iterations = env ? std::atoi(env) : 40;
  std::mt19937 rng(1234);
  for (const char* file :
       {"jpeg_odd_size.jpg", "jpeg_progressive.jpg", "jpeg_cmyk.jpg", "png_palette_4bit.png",
        "png_interlaced.png", "png_gray16.png", "bmp_1bit.bmp", "bmp_rle8.bmp", "bmp_rgb565.bmp",
        "tiff_packbits.tif", "tiff_exif6.tif", "webp_lossless.webp", "webp_animated.webp",
        "gif.gif", "gif_small_frame.gif"}) {
    const std::string good = slurp(images_dir + "/formats/" + file);
    for (int i = 0; i < iterations; ++i) {
      std::string b = good;
      for (int k = 0; k < 1 + i % 4; ++k) b[rng() % b.size()] = static_cast<char>(rng());
      if (i % 5 == 0) b.resize(rng() % b.size());
      try {
        ptjs::decode_image(b, i % 2 ? ptjs::color_mode::l : ptjs::color_mode::rgb);
      } catch (const ptjs::error&) {
      }
    }
  }
}

// --- draft (PIL's JpegImageFile.draft) ---------------------------------------------------------
// Bit-exactness against PIL's own draft on real photos is tests/parity (group draft); here the
// scale choice and what each format does with a request.

TEST(image_io_draft, scale_is_pils_choice) {
  struct scale_case {
    int64_t w, h;
    cv::Size request;
    int want;
  };
  const scale_case cases[] = {
      {4000, 3000, {256, 256}, 8},  // min(15, 11) = 11 -> 8
      {2048, 2048, {256, 256}, 8},  {2047, 4000, {256, 256}, 4},  // 7 -> 4
      {1600, 1200, {256, 256}, 4},  {1023, 1023, {256, 256}, 2},  // 3 -> 2
      {512, 900, {256, 256}, 2},    {511, 900, {256, 256}, 1},    {256, 256, {256, 256}, 1},
      {100, 100, {256, 256}, 1},    // smaller than asked: 0 -> 1
      {1600, 1200, {150, 100}, 8},  // Resize([100, 150]): min(10, 12)
      {1600, 1200, {1600, 10}, 1},  // the width decides
      {4000, 3000, {}, 1},          {4000, 3000, {0, 0}, 1},       {4000, 3000, {-4, 4}, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.w) + "x" + std::to_string(c.h) + " asked " + std::to_string(c.request.width) +
                 "x" + std::to_string(c.request.height));
    EXPECT_EQ(ptjs::jpeg_draft_scale(c.w, c.h, c.request), c.want);
  }
}

TEST(image_io_draft, jpegs_decode_reduced_to_pils_size) {
  // (file, request) -> PIL's size after draft: ((W + s - 1) // s, (H + s - 1) // s).
  struct size_case {
    const char* file;
    cv::Size request, want;
  };
  const size_case cases[] = {
      {"jpeg_baseline.jpg", {32, 32}, {57, 38}},      // 451x300, scale 8
      {"jpeg_progressive.jpg", {100, 100}, {150, 100}},  // 600x400, scale 4
      {"jpeg_camera_file.jpg", {400, 400}, {500, 436}},  // 1000x872, scale 2
      {"jpeg_gray.jpg", {32, 32}, {32, 32}},          // 256x256, scale 8
      {"jpeg_cmyk.jpg", {100, 100}, {226, 150}},      // 451x300: min(4, 3) -> 2
      {"jpeg_odd_size.jpg", {8, 6}, {9, 7}},          // 17x13, scale 2
      {"jpeg_1x1.jpg", {1, 1}, {1, 1}},               // scale 1
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string bytes = slurp(images_dir + "/formats/" + c.file);
    ptjs::decode_options o;
    o.draft_size = c.request;
    for (const auto mode : {ptjs::color_mode::rgb, ptjs::color_mode::l}) {
      const cv::Mat m = ptjs::decode_image(bytes, mode, o);
      EXPECT_EQ(m.size(), c.want);
      EXPECT_EQ(m.channels(), mode == ptjs::color_mode::rgb ? 3 : 1);
    }
  }
}

TEST(image_io_draft, other_formats_and_scale_1_ignore_it) {
  ptjs::decode_options draft;
  draft.draft_size = cv::Size(8, 8);
  for (const char* file : {"png_rgb.png", "bmp_rgb.bmp", "webp_lossless.webp", "gif.gif", "tiff_packbits.tif",
                           "jpeg_1x1.jpg"}) {
    SCOPED_TRACE(file);
    const std::string bytes = slurp(images_dir + "/formats/" + file);
    EXPECT_EQ(compare(ptjs::decode_image(bytes, ptjs::color_mode::rgb, draft),
                      ptjs::decode_image(bytes, ptjs::color_mode::rgb)), "");
  }
  // A request as large as the image: scale 1, the full decode.
  const std::string jpeg = slurp(images_dir + "/formats/jpeg_baseline.jpg");
  draft.draft_size = cv::Size(300, 300);
  EXPECT_EQ(compare(ptjs::decode_image(jpeg, ptjs::color_mode::rgb, draft),
                    load_u8_npy(images_dir + "/formats/jpeg_baseline.RGB.npy")), "");
}

// Limits are checked on the full size, before decoding, as PIL does.
TEST(image_io_draft, limits_apply_to_the_full_size) {
  ptjs::decode_options o;
  o.draft_size = cv::Size(8, 8);
  o.max_pixels = 451 * 300 - 1;
  try {
    ptjs::decode_image(slurp(images_dir + "/formats/jpeg_baseline.jpg"), ptjs::color_mode::rgb, o);
    FAIL() << "decoded over the pixel limit";
  } catch (const ptjs::error& e) {
    EXPECT_EQ(e.code(), ptjs::error_code::too_large);
  }
}

// --- files and modes --------------------------------------------------------------------------

TEST(image_io_files, read_file_bytes) {
  const std::string path = images_dir + "/formats/png_1bit.png";
  EXPECT_EQ(ptjs::read_file_bytes(path), slurp(path));
  try {
    ptjs::read_file_bytes(images_dir + "/no such file.jpg");
    ADD_FAILURE() << "no error";
  } catch (const ptjs::error& e) {
    EXPECT_EQ(e.code(), invalid);
    EXPECT_EQ(std::string(e.what()),
              "cannot read '" + images_dir + "/no such file.jpg': No such file or directory");
  }
  try {
    ptjs::read_file_bytes(images_dir);
    ADD_FAILURE() << "no error";
  } catch (const ptjs::error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read '" + images_dir + "': Is a directory");
  }
}

TEST(image_io_modes, parse_and_name) {
  EXPECT_EQ(ptjs::parse_color_mode("RGB"), ptjs::color_mode::rgb);
  EXPECT_EQ(ptjs::parse_color_mode("L"), ptjs::color_mode::l);
  EXPECT_STREQ(ptjs::color_mode_name(ptjs::color_mode::rgb), "RGB");
  EXPECT_STREQ(ptjs::color_mode_name(ptjs::color_mode::l), "L");
  try {
    ptjs::parse_color_mode("rgb");
    ADD_FAILURE() << "no error";
  } catch (const ptjs::error& e) {
    EXPECT_EQ(e.code(), ptjs::error_code::invalid_config);
    EXPECT_EQ(std::string(e.what()), "unknown image mode 'rgb'; accepted values: RGB, L");
  }
}

}  // namespace
