-- Google apparel attributes on Product. Added with ALTER TABLE (not the table
-- rebuild `migrate diff` writes for NOT NULL columns) so columns other
-- branches add to Product in parallel survive.
ALTER TABLE "Product" ADD COLUMN "gender" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Product" ADD COLUMN "ageGroup" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Product" ADD COLUMN "color" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Product" ADD COLUMN "size" TEXT NOT NULL DEFAULT '';
