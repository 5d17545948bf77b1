// phalanx-msc: a message sequence chart (SVG) of a real cluster, drawn from its replicas'
// trace files (phalanx-replica --trace FILE; node/tracing_transport.h).
//
//   phalanx-msc --out chart.svg [--messages N] [--seconds S] [--status]
//               trace-0.log trace-1.log ...
//
// STATUS messages (every replica's periodic position report) are left out unless
// --status: they would bury the protocol's messages.
// One lane per replica (its role from the trace's first line: a Byzantine one is marked)
// and one for the clients; time runs down, in event order (the left margin gives the
// milliseconds since the first message). A send is paired with its receive by the
// message's digest; a send nobody traced receiving ends in a cross. Colours by kind.
// Exit codes: 0 drawn, 2 bad input.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace {

struct Record {
  long long micros = 0;
  bool send = false;
  int self = 0;
  std::string peer;  // replica id or c<connection>
  std::string kind, view, seq, id;
};

struct Lane {
  std::string role;
};

struct Arrow {
  long long sent = 0, received = 0;  // micros; received < 0: never received
  int from = 0, to = 0;              // lane: replica id, or -1 for the clients
  std::string kind, label;
};

bool is_client(const std::string& peer) {
  return !peer.empty() && peer[0] == 'c';
}

bool read_trace(const std::string& path, std::map<int, Lane>& lanes, std::vector<Record>& out) {
  std::ifstream file(path);
  if (!file) return false;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream in(line);
    if (line.rfind("# replica ", 0) == 0) {
      int id = 0;
      std::string hash, word;
      in >> hash >> word >> id;
      std::getline(in, lanes[id].role);
      continue;
    }
    Record record;
    std::string direction;
    if (in >> record.micros >> direction >> record.self >> record.peer >> record.kind >>
        record.view >> record.seq >> record.id) {
      record.send = direction == "send";
      out.push_back(std::move(record));
    }
  }
  return true;
}

// Pairs each send to a replica with that replica's receive of the same bytes.
std::vector<Arrow> pair_up(const std::vector<Record>& records) {
  std::map<std::tuple<std::string, int, int>, std::vector<long long>> receives;
  for (const auto& r : records)
    if (!r.send && !is_client(r.peer))
      receives[{r.id, std::stoi(r.peer), r.self}].push_back(r.micros);
  std::vector<Arrow> arrows;
  for (const auto& r : records) {
    std::string label = r.kind + (r.seq == "-" ? "" : " v" + r.view + " #" + r.seq);
    if (r.send && is_client(r.peer)) {
      arrows.push_back({r.micros, r.micros, r.self, -1, r.kind, label});
    } else if (!r.send && is_client(r.peer)) {
      arrows.push_back({r.micros, r.micros, -1, r.self, r.kind, label});
    } else if (r.send) {
      auto& times = receives[{r.id, r.self, std::stoi(r.peer)}];
      long long received = -1;
      if (!times.empty()) {
        received = times.front();
        times.erase(times.begin());
      }
      arrows.push_back({r.micros, received, r.self, std::stoi(r.peer), r.kind, label});
    }
  }
  std::sort(arrows.begin(), arrows.end(),
            [](const Arrow& a, const Arrow& b) { return a.sent < b.sent; });
  return arrows;
}

std::string colour(const std::string& kind) {
  static const std::map<std::string, std::string> colours = {
      {"REQUEST", "#888"},        {"REPLY", "#2a2"},
      {"PRE_PREPARE", "#d62728"}, {"PREPARE", "#1f77b4"},
      {"COMMIT", "#9467bd"},      {"CHECKPOINT", "#8c564b"},
      {"VIEW_CHANGE", "#ff7f0e"}, {"NEW_VIEW", "#e377c2"},
      {"STATUS", "#ccc"},         {"COMMIT_CERTIFICATE", "#17becf"}};
  auto found = colours.find(kind);
  return found == colours.end() ? "#000" : found->second;
}

std::string draw(const std::map<int, Lane>& lanes, const std::vector<Arrow>& arrows) {
  constexpr int kLaneWidth = 190, kRow = 7, kTop = 70, kLeft = 80;
  std::map<int, int> x;  // lane -> x
  x[-1] = kLeft;
  int next = kLeft + kLaneWidth;
  for (const auto& [id, lane] : lanes) {
    x[id] = next;
    next += kLaneWidth;
  }
  std::set<long long> times;
  for (const auto& a : arrows) {
    times.insert(a.sent);
    if (a.received >= 0) times.insert(a.received);
  }
  std::vector<long long> order(times.begin(), times.end());
  auto y = [&](long long t) {
    return kTop +
           kRow * static_cast<int>(std::lower_bound(order.begin(), order.end(), t) - order.begin());
  };
  int height = kTop + kRow * static_cast<int>(order.size()) + 40;
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << next + 40 << "' height='" << height
      << "' font-family='monospace' font-size='10'>\n<rect width='100%' height='100%' "
         "fill='white'/>\n";
  svg << "<text x='" << x[-1] - 20 << "' y='30' font-size='13'>clients</text>\n";
  for (const auto& [id, lane] : lanes) {
    bool byzantine = lane.role.find("Byzantine") != std::string::npos;
    svg << "<text x='" << x[id] - 40 << "' y='30' font-size='13'"
        << (byzantine ? " fill='#c00'" : "") << ">replica " << id << "</text><text x='"
        << x[id] - 40 << "' y='46'" << (byzantine ? " fill='#c00'" : "") << ">" << lane.role
        << "</text>\n";
  }
  for (const auto& [lane, position] : x)
    svg << "<line x1='" << position << "' y1='" << kTop - 10 << "' x2='" << position << "' y2='"
        << height - 20 << "' stroke='#bbb'/>\n";
  long long origin = order.empty() ? 0 : order.front();
  long long last_label = -1'000'000;
  for (long long t : order) {
    if (t - last_label < 5'000) continue;  // a time label every 5 ms at most
    last_label = t;
    svg << "<text x='4' y='" << y(t) + 3 << "' fill='#666'>" << (t - origin) / 1000
        << " ms</text>\n";
  }
  for (const auto& a : arrows) {
    bool lost = a.received < 0;
    int y1 = y(a.sent), y2 = lost ? y1 + 2 * kRow : y(a.received);
    int x1 = x[a.from], x2 = lost ? (x[a.from] + x[a.to]) / 2 : x[a.to];
    svg << "<line x1='" << x1 << "' y1='" << y1 << "' x2='" << x2 << "' y2='" << y2 << "' stroke='"
        << colour(a.kind) << "'" << (lost ? " stroke-dasharray='3,2'" : "") << "><title>" << a.label
        << "</title></line>\n";
    if (lost)
      svg << "<text x='" << x2 - 3 << "' y='" << y2 + 3 << "' fill='#c00'>x</text>\n";
    else
      svg << "<circle cx='" << x2 << "' cy='" << y2 << "' r='2' fill='" << colour(a.kind)
          << "'/>\n";
  }
  int legend = 10;
  for (const char* kind : {"REQUEST", "PRE_PREPARE", "PREPARE", "COMMIT", "REPLY", "CHECKPOINT",
                           "VIEW_CHANGE", "NEW_VIEW", "STATUS", "COMMIT_CERTIFICATE"}) {
    svg << "<text x='" << legend << "' y='60' fill='" << colour(kind) << "'>" << kind
        << "</text>\n";
    legend += 11 + 7 * static_cast<int>(std::string(kind).size());
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Draws a message sequence chart (SVG) from replicas' --trace files."};
  std::string out;
  std::vector<std::string> traces;
  std::size_t messages_max = 400;
  double seconds = 3;
  bool with_status = false;
  app.add_option("--out", out, "the SVG file to write")->required();
  app.add_option("--messages", messages_max, "draw at most this many messages (the first)");
  app.add_option("--seconds", seconds, "draw at most this long from the first message");
  app.add_flag("--status", with_status, "draw STATUS messages too");
  app.add_option("traces", traces, "trace files, one per replica")->required();
  CLI11_PARSE(app, argc, argv);

  std::map<int, Lane> lanes;
  std::vector<Record> records;
  for (const auto& path : traces) {
    if (!read_trace(path, lanes, records)) {
      std::cerr << "phalanx-msc: cannot read " << path << "\n";
      return 2;
    }
  }
  if (!with_status)
    std::erase_if(records, [](const Record& record) { return record.kind == "STATUS"; });
  std::vector<Arrow> arrows = pair_up(records);
  if (!arrows.empty()) {
    long long end = arrows.front().sent + static_cast<long long>(seconds * 1e6);
    std::erase_if(arrows, [end](const Arrow& a) { return a.sent > end; });
    if (arrows.size() > messages_max) arrows.resize(messages_max);
  }
  std::ofstream file(out);
  if (!(file << draw(lanes, arrows))) {
    std::cerr << "phalanx-msc: cannot write " << out << "\n";
    return 2;
  }
  std::size_t lost = static_cast<std::size_t>(
      std::count_if(arrows.begin(), arrows.end(), [](const Arrow& a) { return a.received < 0; }));
  std::cout << "message sequence chart: " << out << " (" << arrows.size() << " messages, " << lost
            << " never received, " << lanes.size() << " replicas)\n";
  return 0;
}
