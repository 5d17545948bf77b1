// How phalanx-bench turns readings into figures: counters between processes (one line
// each), and a window's percentiles and per-request costs.
#include <gtest/gtest.h>

#include "report.h"
#include "server.h"

namespace phalanx::bench {
namespace {

TEST(Counters, TravelAsOneLineAndBack) {
  Counters counters{1234, 5, 6, 7, 8, 9, 10};
  auto back = Counters::from_line(counters.to_line());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().to_line(), counters.to_line());
  EXPECT_DOUBLE_EQ(back.value().cpu_us, 1234);
  EXPECT_EQ(back.value().batches, 10u);
}

TEST(Counters, RefuseALineThatIsNotTheirs) {
  EXPECT_FALSE(Counters::from_line("cpu_us=1 signs=2").ok());  // fields missing
  EXPECT_FALSE(Counters::from_line("cpu_us=1 signs=2 verifies=3 messages=4 bytes=5 executed=6 "
                                   "batches=7 extra=8")
                   .ok());
  EXPECT_FALSE(Counters::from_line("server 3 failed").ok());
}

TEST(Counters, AWindowIsTheDifference) {
  Counters before{100, 1, 2, 3, 4, 5, 6};
  Counters after{350, 11, 22, 33, 44, 55, 66};
  Counters window = after - before;
  EXPECT_DOUBLE_EQ(window.cpu_us, 250);
  EXPECT_EQ(window.verifies, 20u);
  EXPECT_EQ(window.batches, 60u);
}

TEST(Point, PercentilesAndCostsPerRequest) {
  WindowResult window;
  window.seconds = 2;
  window.completed = 1000;
  for (std::uint32_t i = 1; i <= 1000; ++i) window.latencies_us.push_back(1001 - i);  // 1..1000 us
  Counters own{4000, 1000, 2000, 0, 0, 0, 0};
  Counters servers{6000, 4000, 8000, 9000, 300000, 4000, 100};
  Point point = make_point(16, window, own, servers, /*threads=*/false, /*ceiling=*/1000);
  EXPECT_DOUBLE_EQ(point.per_second, 500);
  EXPECT_NEAR(point.p50_ms, 0.5, 0.002);
  EXPECT_NEAR(point.p99_ms, 0.99, 0.002);
  EXPECT_DOUBLE_EQ(point.cpu_us_per_request, 10);  // (4000 + 6000) / 1000
  EXPECT_DOUBLE_EQ(point.server_cpu_us_per_request, 6);
  EXPECT_DOUBLE_EQ(point.signs_per_request, 5);
  EXPECT_DOUBLE_EQ(point.verifies_per_request, 10);
  EXPECT_DOUBLE_EQ(point.messages_per_request, 9);
  EXPECT_DOUBLE_EQ(point.bytes_per_request, 300);
  EXPECT_DOUBLE_EQ(point.batch_size, 40);
  EXPECT_DOUBLE_EQ(point.of_ceiling, 0.5);
}

TEST(Point, WithThreadsTheServersAreInThisProcessesFigures) {
  WindowResult window;
  window.seconds = 1;
  window.completed = 10;
  window.latencies_us = std::vector<std::uint32_t>(10, 100);
  Counters own{1000, 10, 20, 0, 0, 0, 0};
  Counters servers{0, 0, 0, 90, 900, 40, 4};
  Point point = make_point(1, window, own, servers, /*threads=*/true, 0);
  EXPECT_DOUBLE_EQ(point.cpu_us_per_request, 100);
  EXPECT_DOUBLE_EQ(point.server_cpu_us_per_request, 0);
  EXPECT_DOUBLE_EQ(point.of_ceiling, 0);
}

TEST(Report, JsonAndSvgCarryEveryPoint) {
  RunReport run;
  run.label = "replicated n=4";
  for (std::size_t outstanding : {1, 8}) {
    Point point;
    point.outstanding = outstanding;
    point.per_second = 100.0 * static_cast<double>(outstanding);
    point.p50_ms = 2;
    point.p99_ms = 5;
    run.points.push_back(point);
  }
  std::string json = to_json({run});
  EXPECT_NE(json.find("\"outstanding\":1,"), std::string::npos);
  EXPECT_NE(json.find("\"outstanding\":8,"), std::string::npos);
  EXPECT_NE(json.find("\"requests_per_second\":800"), std::string::npos);
  std::string svg = to_svg({run});
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("replicated n=4"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

}  // namespace
}  // namespace phalanx::bench
