package vn.binhphuoc.solr;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * One standalone Solr node on 127.0.0.1:PORT with the core {@code ckan}.
 *
 * <p>Usage: {@code Launcher PORT SOLR_HOME CONFIGSET_DIR}. The configset's conf/ is copied
 * into SOLR_HOME/ckan/conf at every start (so a changed schema takes effect on restart);
 * the index stays in SOLR_HOME/ckan/data. The node runs until SIGTERM.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: Launcher PORT SOLR_HOME CONFIGSET_DIR");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    Path home = Path.of(args[1]).toAbsolutePath();
    Path configset = Path.of(args[2]).toAbsolutePath();
    Path core = home.resolve("ckan");
    Files.createDirectories(core);
    Files.writeString(home.resolve("solr.xml"), "<solr/>\n", StandardCharsets.UTF_8);
    Files.writeString(core.resolve("core.properties"), "name=ckan\n", StandardCharsets.UTF_8);
    copyTree(configset.resolve("conf"), core.resolve("conf"));

    JettyConfig config =
        JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(true).build();
    JettySolrRunner node = new JettySolrRunner(home.toString(), config);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.stop();
      } catch (Exception e) {
        e.printStackTrace();
      }
    }));
    node.start();
    if (!node.getCoreContainer().getLoadedCoreNames().contains("ckan")) {
      System.err.println("the core 'ckan' did not load: " + node.getCoreContainer().getCoreInitFailures());
      System.exit(1);
    }
    System.out.println("Solr ready on " + node.getBaseUrl() + "/ckan");
    Thread.currentThread().join();
  }

  private static void copyTree(Path from, Path to) throws Exception {
    if (Files.exists(to)) {
      try (Stream<Path> old = Files.walk(to)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
